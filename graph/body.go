package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// readBody reads a request's body whole, within MaxBodyBytes, before anything decodes it,
// and reports whether the request may go on. A body over the limit is 413 whether it said
// its length (refused unread) or came chunked (found out by reading, so both answer
// alike); a JSON array, a batch of operations, which this API does not take, is 400 in
// words of our own, where gqlgen's decoder would echo the whole body back.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		writeHTTPError(w, http.StatusRequestEntityTooLarge, CodeBadRequest, errBodyTooLarge.Error())
		return false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeHTTPError(w, http.StatusRequestEntityTooLarge, CodeBadRequest, errBodyTooLarge.Error())
		return false
	case err != nil:
		writeHTTPError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
		return false
	case r.Method == http.MethodPost && bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("[")):
		writeHTTPError(w, http.StatusBadRequest, CodeBadRequest, errBatch.Error())
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// DefaultMaxBodyBytes is ServerConfig.MaxBodyBytes unless set (serve's --max-body-bytes).
const DefaultMaxBodyBytes = 1 << 20

var (
	errBodyTooLarge = errors.New("request body too large")
	errBatch        = errors.New("batching is not supported: send one operation per request, as a JSON object")
)

// undecodablePrefix starts gqlgen's message for a body that is not a request object; it
// goes on with the decoder's error and then " body:" and the whole body.
const undecodablePrefix = "json request body could not be decoded"

// presentWithoutBody is presentError with the echoed body cut off gqlgen's message for an
// undecodable body: the body is the caller's own, and an error should not send a megabyte
// back.
func presentWithoutBody(ctx context.Context, err error) *gqlerror.Error {
	e := presentError(ctx, err)
	if strings.HasPrefix(e.Message, undecodablePrefix) {
		if i := strings.LastIndex(e.Message, " body:"); i >= 0 {
			e.Message = e.Message[:i]
		}
	}
	return e
}
