package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Spoil is a fault of the answer rather than of the call: the emulator
// handles the call as usual (it is logged in Calls), then the answer the
// client receives is spoiled. Each count applies to the next that many
// calls of the operation; the first non-zero count in field order wins.
type Spoil struct {
	// Truncate cuts the body in half and sends it as a complete answer
	// (HTTP 200, Content-Length of what is sent): a document that ends early.
	Truncate int `json:"truncate,omitempty"`
	// Cut promises the whole body (Content-Length) and closes the
	// connection after half of it: a connection lost mid-answer.
	Cut int `json:"cut,omitempty"`
	// Garble keeps the first half of the body and replaces the rest with
	// bytes no JSON or XML document may contain (NUL, 0xFF).
	Garble int `json:"garble,omitempty"`
	// Expired answers with the service's expired-credentials error:
	// ExpiredTokenException (ECS, SSM, Secrets Manager), RequestExpired (EC2).
	Expired int `json:"expired,omitempty"`
}

// Spoiler wraps a Server's handler and spoils the answers of the operations
// given to Set. Control requests (/_emulator/...) pass untouched.
type Spoiler struct {
	next http.Handler

	mu     sync.Mutex
	spoils map[string]*Spoil
}

// NewSpoiler returns a handler that serves through next (usually a *Server).
func NewSpoiler(next http.Handler) *Spoiler {
	return &Spoiler{next: next, spoils: map[string]*Spoil{}}
}

// Set spoils the answers of op ("DescribeInstances", …; "*" for every
// operation without its own). A zero Spoil removes it.
func (s *Spoiler) Set(op string, sp Spoil) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp == (Spoil{}) {
		delete(s.spoils, op)
		return
	}
	s.spoils[op] = &sp
}

// take consumes one count of op's spoil and names its kind ("" = none).
func (s *Spoiler) take(op string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spoils[op]
	if sp == nil {
		sp = s.spoils["*"]
	}
	if sp == nil {
		return ""
	}
	for _, k := range []struct {
		n    *int
		kind string
	}{{&sp.Truncate, "truncate"}, {&sp.Cut, "cut"}, {&sp.Garble, "garble"}, {&sp.Expired, "expired"}} {
		if *k.n > 0 {
			*k.n--
			return k.kind
		}
	}
	return ""
}

// ServeHTTP lets next answer into a buffer, then sends the answer spoiled
// or as it is.
func (s *Spoiler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	service, op := operationOf(r, body)
	kind := s.take(op)

	rec := httptest.NewRecorder()
	s.next.ServeHTTP(rec, r)
	res := rec.Result()
	out := rec.Body.Bytes()
	for k, v := range res.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	half := out[:len(out)/2]
	switch kind {
	case "":
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(out)
	case "truncate":
		w.Header().Set("Content-Length", strconv.Itoa(len(half)))
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(half)
	case "garble":
		g := append(append([]byte(nil), half...), bytes.Repeat([]byte{0, 0xff}, (len(out)-len(half)+1)/2)...)
		w.Header().Set("Content-Length", strconv.Itoa(len(g)))
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(g)
	case "cut":
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(half)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		// Closing the connection with the answer unfinished is what
		// ErrAbortHandler does without logging a stack.
		panic(http.ErrAbortHandler)
	case "expired":
		if service == "ec2" {
			w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, ec2ErrorXML(&apiError{code: "RequestExpired", message: "Request has expired."}, requestID()))
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"__type":  "ExpiredTokenException",
			"message": "The security token included in the request is expired",
		})
	}
}

// operationOf names the service and operation of a request the way Server
// routes it.
func operationOf(r *http.Request, body []byte) (service, op string) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		switch {
		case strings.HasPrefix(target, ssmTargetPrefix):
			return "ssm", strings.TrimPrefix(target, ssmTargetPrefix)
		case strings.HasPrefix(target, secretsTargetPrefix):
			return "secretsmanager", strings.TrimPrefix(target, secretsTargetPrefix)
		}
		return "ecs", strings.TrimPrefix(target, ecsTargetPrefix)
	}
	if isS3(r) {
		return "s3", "GetObject"
	}
	params, err := url.ParseQuery(string(body))
	if err != nil || params.Get("Action") == "" {
		params = r.URL.Query()
	}
	return "ec2", params.Get("Action")
}
