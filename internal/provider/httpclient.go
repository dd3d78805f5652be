package provider

import (
	"net/http"
)

// NewHTTPClient returns a client tuned for many concurrent requests to a few
// hosts: perHost idle connections are kept per host, where
// http.DefaultTransport keeps 2 — at thousands of requests a second that means
// a new TCP connection for nearly every call. Everything else (proxy, dial and
// TLS timeouts, HTTP/2) is the standard transport's. Attempt timeouts come from
// the request context, so the client sets no overall timeout.
func NewHTTPClient(perHost int) *http.Client {
	if perHost < 2 {
		perHost = 2
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = perHost
	if t.MaxIdleConns < perHost*4 {
		t.MaxIdleConns = perHost * 4
	}
	return &http.Client{Transport: t}
}
