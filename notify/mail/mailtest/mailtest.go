// Package mailtest provides an in-process SMTP server for tests of code that
// sends e-mail through partners/mail (or any SMTP client).
//
// The server listens on 127.0.0.1, accepts any sender and recipient, and
// accepts AUTH PLAIN with any credentials (authentication is optional). It
// keeps every message in memory, decoded (multipart/alternative,
// quoted-printable, base64) for easy assertions, and can be told to answer
// the next DATA commands with a temporary failure to exercise retries.
//
//	srv := mailtest.NewServer(t)
//	sender, _ := mail.NewSMTPSender(srv.URL, "noreply@partners.local", nil)
//	... code under test sends ...
//	got := srv.WaitFor(t, 1, 5*time.Second)
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message accepted by the Server.
type Received struct {
	MessageID       string   // Message-ID header without the angle brackets
	From            string   // envelope sender (MAIL FROM)
	To              []string // envelope recipients (RCPT TO)
	Subject         string   // decoded Subject header
	Text            string   // decoded text/plain body, "" if none
	HTML            string   // decoded text/html body, "" if none
	Raw             []byte   // the message exactly as transmitted after DATA
	ContentLanguage string   // Content-Language header
	AuthUsername    string   // user name given to AUTH PLAIN, "" without AUTH
	TLS             bool     // whether the session was encrypted
	ParseError      error    // non-nil when Raw could not be fully decoded
}

// Server is a running test SMTP server.
type Server struct {
	Addr string // host:port, on 127.0.0.1
	// URL is the partners/mail URL to reach this server, for example
	// "smtp://127.0.0.1:2525?starttls=none"; with TLS options it carries
	// insecure_skip_verify=true, the certificate being self-signed.
	URL string

	srv     *smtp.Server
	mu      sync.Mutex
	msgs    []Received
	failN   int
	arrived chan struct{} // closed and replaced on each arrival
}

// Option configures NewServer.
type Option func(*options)

type options struct{ starttls, implicitTLS bool }

// WithSTARTTLS makes the server offer STARTTLS with a self-signed
// certificate; URL then requires it (starttls=required).
func WithSTARTTLS() Option { return func(o *options) { o.starttls = true } }

// WithImplicitTLS makes the server speak TLS from the first byte with a
// self-signed certificate; URL then uses smtps://.
func WithImplicitTLS() Option { return func(o *options) { o.implicitTLS = true } }

// NewServer starts a server on 127.0.0.1 on a free port. It is closed by
// t.Cleanup.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), arrived: make(chan struct{})}

	srv := smtp.NewServer(&backend{s: s})
	srv.Domain = "mailtest.local"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv = srv

	switch {
	case o.implicitTLS:
		cfg := selfSignedTLS(t)
		ln = tls.NewListener(ln, cfg)
		s.URL = "smtps://" + s.Addr + "?insecure_skip_verify=true"
	case o.starttls:
		srv.TLSConfig = selfSignedTLS(t)
		s.URL = "smtp://" + s.Addr + "?starttls=required&insecure_skip_verify=true"
	default:
		s.URL = "smtp://" + s.Addr + "?starttls=none"
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close closes only the listeners Serve has registered: a test that
		// ends before Serve starts (no mail sent) would wait on Accept forever.
		_ = ln.Close()
		<-done
	})
	return s
}

// Messages returns a copy of the messages received so far, in arrival order.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.msgs))
	for i, m := range s.msgs {
		out[i] = m.clone()
	}
	return out
}

// WaitFor waits until at least n messages have arrived and returns them
// all. It fails the test if they do not arrive within timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.msgs), s.arrived
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("mailtest: got %d message(s) after %s, want at least %d", got, timeout, n)
			return nil
		}
	}
}

// FailNext makes the next n DATA commands answer "451 4.3.0" (temporary
// failure) after reading the message, which is then not stored.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN = n
}

// Reset forgets the messages received so far and any pending FailNext.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs, s.failN = nil, 0
}

func (s *Server) deliver(r Received) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN > 0 {
		s.failN--
		return &smtp.SMTPError{
			Code:         451,
			EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message:      "mailtest: temporary failure requested by FailNext",
		}
	}
	s.msgs = append(s.msgs, r)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return nil
}

func (r Received) clone() Received {
	r.To = append([]string(nil), r.To...)
	r.Raw = append([]byte(nil), r.Raw...)
	return r
}

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, _ string) error {
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	rec := parse(raw)
	rec.From, rec.To, rec.AuthUsername, rec.TLS = ss.from, append([]string(nil), ss.to...), ss.user, isTLS
	return ss.s.deliver(rec)
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parse decodes what tests usually assert on. It never fails: problems are
// reported in ParseError and the raw bytes are always kept.
func parse(raw []byte) Received {
	rec := Received{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		rec.ParseError = fmt.Errorf("reading message: %w", err)
		return rec
	}
	rec.MessageID = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(msg.Header.Get("Message-Id")), "<"), ">")
	rec.ContentLanguage = strings.TrimSpace(msg.Header.Get("Content-Language"))
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		rec.Subject = subj
	} else {
		rec.Subject = msg.Header.Get("Subject")
		rec.ParseError = fmt.Errorf("decoding subject: %w", err)
	}
	if err := walk(&rec, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0); err != nil && rec.ParseError == nil {
		rec.ParseError = err
	}
	return rec
}

// walk descends into multipart bodies and keeps the first text/plain and
// text/html leaves.
func walk(rec *Received, contentType, cte string, body io.Reader, depth int) error {
	if depth > 10 {
		return errors.New("MIME nesting too deep")
	}
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type: %w", err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart: the part's transfer encoding is handled by decode.
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := walk(rec, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); err != nil {
				return err
			}
		}
	}
	var dst *string
	switch mediaType {
	case "text/plain":
		dst = &rec.Text
	case "text/html":
		dst = &rec.HTML
	default:
		return nil
	}
	if *dst != "" {
		return nil
	}
	b, err := decode(body, cte)
	if err != nil {
		return err
	}
	*dst = string(b)
	return nil
}

func decode(r io.Reader, cte string) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		if err != nil {
			return nil, fmt.Errorf("quoted-printable: %w", err)
		}
		return b, nil
	case "base64":
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: r}))
		if err != nil {
			return nil, fmt.Errorf("base64: %w", err)
		}
		return b, nil
	default:
		return io.ReadAll(r)
	}
}

// stripNewlines drops CR and LF, which base64 bodies are wrapped with.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// selfSignedTLS returns a server TLS config with a fresh certificate for
// 127.0.0.1 and localhost.
func selfSignedTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("mailtest: generating key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("mailtest: creating certificate: %v", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
}
