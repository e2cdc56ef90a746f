package graph

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ParseCORSOrigins reads a comma-separated allow-list of browser origins, such as
// "http://localhost:5173,https://admin.example.com". Each must be exact — a scheme and a
// host with an optional port, nothing else — and is returned lower-cased, as browsers send
// it. "*" is refused: the allow-list is what keeps other sites' pages from driving the API
// with a token a user pasted into them.
func ParseCORSOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if o == "*" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "*") {
			return nil, fmt.Errorf("CORS origin %q: want an exact origin such as http://localhost:5173 (scheme, host, optional port; no *, path or query)", o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// cors lets pages of the allowed origins call /graphql from a browser: it answers their
// preflight (Authorization and Content-Type may be sent) and marks their responses
// readable. Other origins get no CORS headers, so their browser blocks the response.
// Access-Control-Allow-Credentials is never sent: tokens travel in Authorization, set by
// the page's script, never in cookies, so no request rides on a user's ambient
// credentials. Vary: Origin keeps caches from serving one origin's answer to another.
func (s *Server) cors(next http.Handler) http.Handler {
	allowed := make(map[string]bool, len(s.cfg.CORSOrigins))
	for _, o := range s.cfg.CORSOrigins {
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(allowed) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" || !allowed[strings.ToLower(origin)] {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", RequestIDHeader)
		next.ServeHTTP(w, r)
	})
}
