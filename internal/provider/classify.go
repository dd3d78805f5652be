package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryableStatus reports whether an HTTP status is worth another attempt:
// 408 (request timeout), 409 (conflict, e.g. a lock), 429 (rate limited) and
// every 5xx (including Anthropic's 529 overloaded). Other 4xx are the caller's fault.
func RetryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusTooManyRequests || status >= 500
}

// ParseRetryAfter reads the delay a server asks for: retry-after-ms (milliseconds,
// as OpenAI and Anthropic send it) first, then Retry-After as delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3) measured from now. Absent, unparsable or past
// values give 0.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 || s > 1e9 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// StatusError classifies a non-2xx HTTP answer. msg is the server's error
// message (already extracted from its error body); the x-should-retry header,
// which OpenAI and Anthropic send to override the status rule, is honoured.
func StatusError(status int, h http.Header, msg string, now time.Time) *Error {
	retry := RetryableStatus(status)
	switch strings.ToLower(h.Get("X-Should-Retry")) {
	case "true":
		retry = true
	case "false":
		retry = false
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{Status: status, Retryable: retry, RetryAfter: ParseRetryAfter(h, now), Err: errors.New(msg)}
}

// TransportError classifies a failure that produced no HTTP status: the
// caller's cancellation is final; timeouts, resets, refused connections,
// unexpected EOFs and malformed or truncated bodies are worth another attempt.
func TransportError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	retry := false
	switch {
	case errors.Is(err, context.Canceled):
		retry = false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		retry = true
	default:
		var ne net.Error
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var ue *url.Error
		var oe *net.OpError
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			retry = true
		case errors.As(err, &se), errors.As(err, &te), errors.As(err, &oe):
			retry = true
		case errors.As(err, &ue):
			// A transport failure of the HTTP client; a malformed URL or
			// scheme fails before dialing and is not worth repeating.
			retry = !strings.Contains(ue.Err.Error(), "unsupported protocol scheme")
		}
	}
	return &Error{Retryable: retry, Err: err}
}

// Malformed reports a 200 answer whose body cannot be used (truncated JSON,
// missing choices): retryable, since a proxy or an overloaded server produced it.
func Malformed(format string, args ...any) *Error {
	return &Error{Retryable: true, Err: fmt.Errorf("malformed response: "+format, args...)}
}

// Unsupported is the final error for a request type an endpoint cannot serve;
// it wraps ErrUnsupported.
func Unsupported(format string, args ...any) *Error {
	return &Error{Err: fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))}
}

// Invalid is the final error for a request this provider cannot send as given.
func Invalid(format string, args ...any) *Error {
	return &Error{Err: fmt.Errorf(format, args...)}
}

// Redact replaces every occurrence of secret in s. Servers echo keys back in
// error bodies ("Incorrect API key provided: sk-…"); errors must never carry them.
func Redact(s, secret string) string {
	if len(secret) < 4 || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

// Truncate shortens a server message for an error line.
func Truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

// ErrorMessage extracts a human message from an error body in any of the
// shapes LLM servers use: {"error": {"message": …}} (OpenAI, Anthropic, recent
// vLLM), {"error": "…"} (Ollama, llama.cpp), {"message": …} (older vLLM, TGI
// {"error": …, "error_type": …}), or plain text.
func ErrorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &v); err == nil {
		if len(v.Error) > 0 {
			var s string
			if json.Unmarshal(v.Error, &s) == nil && s != "" {
				return s
			}
			var o struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			}
			if json.Unmarshal(v.Error, &o) == nil && o.Message != "" {
				if o.Type != "" {
					return o.Type + ": " + o.Message
				}
				return o.Message
			}
		}
		if v.Message != "" {
			return v.Message
		}
		if len(v.Detail) > 0 {
			var s string
			if json.Unmarshal(v.Detail, &s) == nil {
				return s
			}
			return string(v.Detail)
		}
	}
	return Truncate(string(body), 300)
}

// WithTimeout bounds one attempt by d when d > 0.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, func() {}
}

// Describe finishes a provider error for the runner: it prefixes what was
// being done, redacts the key and names a timeout for what it is.
func Describe(e *Error, what, secret string) *Error {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		what += ": timed out"
	}
	msg := e.Err.Error()
	red := Redact(msg, secret)
	out := &Error{Status: e.Status, Retryable: e.Retryable, RetryAfter: e.RetryAfter}
	switch {
	case red == msg:
		out.Err = fmt.Errorf("%s: %w", what, e.Err)
	case errors.Is(e.Err, ErrUnsupported):
		out.Err = fmt.Errorf("%s: %w: %s", what, ErrUnsupported, red)
	default:
		out.Err = fmt.Errorf("%s: %s", what, red)
	}
	return out
}
