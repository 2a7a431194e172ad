// Package logslocal is a local Amazon CloudWatch Logs endpoint for tests
// and demos that serves FilterLogEvents only (AWS JSON 1.1, X-Amz-Target
// Logs_20140328.FilterLogEvents), so the unmodified aws-sdk-go-v2 client,
// pointed at it with a base endpoint or AWS_ENDPOINT_URL_CLOUDWATCH_LOGS,
// can read a log group. A group's lines come from Add or from a source
// function read at each request (e.g. a function's output under the
// Lambda emulator). Filter patterns: a subset of CloudWatch's term
// syntax, quoted or bare terms that must all appear, or ?-prefixed terms
// of which one must appear.
package logslocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the endpoint. Close stops it.
type Server struct {
	srv     *httptest.Server
	mu      sync.Mutex
	lines   map[string][]string
	sources map[string]func() string
	calls   int
}

// Start serves on 127.0.0.1 and a free port.
func Start() *Server {
	s := &Server{lines: map[string][]string{}, sources: map[string]func() string{}}
	s.srv = httptest.NewServer(s)
	return s
}

// URL is the endpoint's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Add appends lines to group.
func (s *Server) Add(group string, lines ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines[group] = append(s.lines[group], lines...)
}

// Source makes group also hold the lines of f's text, read at each
// request after the added lines.
func (s *Server) Source(group string, f func() string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources[group] = f
}

// Calls is the number of requests served.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// pageSize is small so that clients page.
const pageSize = 50

// ServeHTTP answers FilterLogEvents.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "Logs_20140328.FilterLogEvents" {
		fault(w, "UnknownOperationException", "logslocal serves FilterLogEvents only")
		return
	}
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		FilterPattern string `json:"filterPattern"`
		NextToken     string `json:"nextToken"`
		StartTime     *int64 `json:"startTime"`
		EndTime       *int64 `json:"endTime"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fault(w, "SerializationException", "malformed JSON")
		return
	}
	s.mu.Lock()
	s.calls++
	lines := append([]string(nil), s.lines[in.LogGroupName]...)
	src, ok := s.sources[in.LogGroupName]
	_, added := s.lines[in.LogGroupName]
	s.mu.Unlock()
	if ok {
		lines = append(lines, strings.Split(src(), "\n")...)
	}
	if !ok && !added {
		fault(w, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	// Every line is stamped with the time of the request, so a window
	// (startTime and endTime, both inclusive) holds all lines or none.
	now := time.Now().UnixMilli()
	if (in.StartTime != nil && now < *in.StartTime) || (in.EndTime != nil && now > *in.EndTime) {
		lines = nil
	}
	var match []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" && matches(in.FilterPattern, l) {
			match = append(match, l)
		}
	}
	start, _ := strconv.Atoi(in.NextToken)
	start = min(max(start, 0), len(match))
	end := min(start+pageSize, len(match))
	type event struct {
		EventID       string `json:"eventId"`
		LogStreamName string `json:"logStreamName"`
		Message       string `json:"message"`
		Timestamp     int64  `json:"timestamp"`
		IngestionTime int64  `json:"ingestionTime"`
	}
	out := struct {
		Events    []event `json:"events"`
		NextToken string  `json:"nextToken,omitempty"`
	}{Events: []event{}}
	for i, m := range match[start:end] {
		out.Events = append(out.Events, event{EventID: strconv.Itoa(start + i), LogStreamName: "local", Message: m, Timestamp: now, IngestionTime: now})
	}
	if end < len(match) {
		out.NextToken = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

// matches applies the supported subset of the filter pattern syntax.
func matches(pattern, line string) bool {
	terms := splitTerms(pattern)
	if len(terms) == 0 {
		return true
	}
	anyOf := strings.HasPrefix(terms[0], "?")
	for _, t := range terms {
		hit := strings.Contains(line, strings.TrimPrefix(t, "?"))
		if anyOf && hit {
			return true
		}
		if !anyOf && !hit {
			return false
		}
	}
	return !anyOf
}

// splitTerms splits on spaces outside double quotes and unquotes (the
// ? prefix stays).
func splitTerms(p string) []string {
	var terms []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && quoted && i+1 < len(p):
			i++
			cur.WriteByte(p[i])
		case c == '"':
			quoted = !quoted
		case c == ' ' && !quoted:
			if cur.Len() > 0 {
				terms = append(terms, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		terms = append(terms, cur.String())
	}
	return terms
}

func fault(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
}
