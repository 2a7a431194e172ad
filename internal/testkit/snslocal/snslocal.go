// Package snslocal is a local Amazon SNS endpoint for tests and demos
// that serves Publish only (the query protocol: a form-encoded POST with
// Action=Publish, answered in XML), so the unmodified aws-sdk-go-v2 SNS
// client, pointed at it with a base endpoint or
// AWS_ENDPOINT_URL_SNS, can publish. It records every message; nothing
// is delivered anywhere.
package snslocal

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Message is one published message.
type Message struct {
	TopicARN, Subject, Body string
}

// Server is the endpoint. Close stops it.
type Server struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []Message
}

// Start serves on 127.0.0.1 and a free port.
func Start() *Server {
	s := &Server{}
	s.srv = httptest.NewServer(s)
	return s
}

// URL is the endpoint's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Messages returns what was published so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// ServeHTTP answers Publish; anything else is the service's
// InvalidAction error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		fault(w, http.StatusBadRequest, "MalformedQueryString", "POST a form-encoded body")
		return
	}
	if a := r.PostForm.Get("Action"); a != "Publish" {
		fault(w, http.StatusBadRequest, "InvalidAction", "snslocal serves Publish only, not "+a)
		return
	}
	m := Message{TopicARN: r.PostForm.Get("TopicArn"), Subject: r.PostForm.Get("Subject"), Body: r.PostForm.Get("Message")}
	if m.TopicARN == "" || m.Body == "" {
		fault(w, http.StatusBadRequest, "InvalidParameter", "TopicArn and Message are required")
		return
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	n := len(s.msgs)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>00000000-0000-4000-8000-%012d</MessageId></PublishResult><ResponseMetadata><RequestId>snslocal</RequestId></ResponseMetadata></PublishResponse>`, n)
}

func fault(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>snslocal</RequestId></ErrorResponse>`, code, msg)
}
