package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveHTTP runs newHTTPServer with t's timeouts on a loopback port until the test ends.
func serveHTTP(t *testing.T, h http.Handler, to httpTimeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(h, to)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// dialClosed dials addr, writes start and returns the connection and a channel closed
// when the server has closed the connection (whatever it answered first).
func dialClosed(t *testing.T, addr, start string) (net.Conn, <-chan struct{}) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, start); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c)
		close(closed)
	}()
	return c, closed
}

// trickledOut writes start, then a byte every 20 ms, and reports whether the server
// closed the connection before the test gave up (20 s: only how long it waits).
func trickledOut(t *testing.T, addr, start string) bool {
	t.Helper()
	c, closed := dialClosed(t, addr, start)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case <-closed:
			return true
		case <-time.After(20 * time.Millisecond):
		}
		if _, err := c.Write([]byte("a")); err != nil {
			return true
		}
	}
	return false
}

func TestHTTPServerCutsSlowClients(t *testing.T) {
	// Each case makes one timeout short and the others long, so each is seen to work.
	const short, long = 300 * time.Millisecond, time.Hour
	readBody := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "slow", http.StatusRequestTimeout)
		}
	})

	t.Run("headers sent byte by byte", func(t *testing.T) {
		addr := serveHTTP(t, readBody, httpTimeouts{readHeader: short, read: long, write: long, idle: long})
		if !trickledOut(t, addr, "GET /healthz HTTP/1.1\r\nHost: crm\r\nX-Slow: ") {
			t.Fatal("a client sending its headers a byte at a time was never cut off")
		}
	})
	t.Run("body sent byte by byte", func(t *testing.T) {
		addr := serveHTTP(t, readBody, httpTimeouts{readHeader: long, read: short, write: long, idle: long})
		if !trickledOut(t, addr, "POST /x HTTP/1.1\r\nHost: crm\r\nContent-Length: 100000\r\n\r\n") {
			t.Fatal("a client sending its body a byte at a time was never cut off")
		}
	})
	t.Run("idle keep-alive connection", func(t *testing.T) {
		addr := serveHTTP(t, readBody, httpTimeouts{readHeader: long, read: long, write: long, idle: short})
		_, closed := dialClosed(t, addr, "GET /x HTTP/1.1\r\nHost: crm\r\n\r\n")
		select {
		case <-closed:
		case <-time.After(20 * time.Second):
			t.Fatal("an idle connection was never closed")
		}
	})
	t.Run("answer never read", func(t *testing.T) {
		failed := make(chan struct{})
		big := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte(strings.Repeat("x", 64<<10))
			for {
				if _, err := w.Write(chunk); err != nil {
					close(failed)
					return
				}
			}
		})
		addr := serveHTTP(t, big, httpTimeouts{readHeader: long, read: long, write: short, idle: long})
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\nHost: crm\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_, _ = bufio.NewReader(c).Peek(1) // the answer started; nothing more is read
		select {
		case <-failed:
		case <-time.After(20 * time.Second):
			t.Fatal("writing to a client that never reads was never cut off")
		}
	})
}

// crm serve's server has every timeout set.
func TestServeTimeoutsAreSet(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), serveTimeouts())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Fatalf("timeouts: header %v, read %v, write %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if srv.ReadHeaderTimeout > srv.ReadTimeout {
		t.Fatalf("headers may take %v, longer than the whole request (%v)", srv.ReadHeaderTimeout, srv.ReadTimeout)
	}
}
