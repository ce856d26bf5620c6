package main

import (
	"net/http"
	"time"
)

// httpTimeouts bound how long one client may hold the listener: headers or a body
// trickling in, a slow reader of the answer, a kept-alive connection left idle.
type httpTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// serveTimeouts are crm serve's: its requests are small (a webhook update of at most
// 1 MB, an unsubscribe form, a health check) and a webhook update is answered after
// the bot handled it, which a report can make take seconds.
func serveTimeouts() httpTimeouts {
	return httpTimeouts{readHeader: 5 * time.Second, read: 30 * time.Second, write: time.Minute, idle: 2 * time.Minute}
}

// newHTTPServer builds crm serve's HTTP server.
func newHTTPServer(h http.Handler, t httpTimeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.readHeader, ReadTimeout: t.read, WriteTimeout: t.write,
		IdleTimeout: t.idle}
}
