package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestHTTPTimeouts runs serve's HTTP server: a client that never finishes its headers is
// cut off at ReadHeaderTimeout (5 s), while a request that uses its whole deadline still
// gets its answer, since WriteTimeout is the deadline plus 5 s.
func TestHTTPTimeouts(t *testing.T) {
	const requestTimeout = time.Second
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(requestTimeout) // as a request answered UNAVAILABLE at its deadline
		_, _ = io.WriteString(w, "answered\n")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(slow, slog.New(slog.NewTextHandler(io.Discard, nil)), requestTimeout)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("a request that takes its whole deadline: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "answered\n" {
		t.Fatalf("a request that takes its whole deadline: %d %q", resp.StatusCode, body)
	}

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil { // no blank line: never done
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err = bufio.NewReader(conn).ReadString('\n')
	if took := time.Since(began); err == nil || took < 4*time.Second || took > 10*time.Second {
		t.Fatalf("unfinished headers: read %v after %s, want the connection closed after about 5 s", err, took)
	}
}
