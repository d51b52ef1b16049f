package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"partners/notify/mail"
	"partners/notify/mail/mailtest"
)

const (
	testFrom = "Partners <noreply@partners.local>"
	testTo   = "bob.martin@example.com"
)

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// assertNoSecrets fails if s contains a full address, the link token or a
// piece of the body.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testTo, "S3CRET", "Looking forward", "invites you"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains %q:\n%s", what, secret, s)
		}
	}
}

func newTestMessage(t *testing.T, id string, locale mail.Locale) mail.Message {
	t.Helper()
	c, err := mail.Render(mail.KindPartnerInvitation, locale, fullData())
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	return mail.Message{ID: id, To: testTo, Locale: locale, Content: c}
}

func normalizeNL(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func TestSMTPSenderDelivers(t *testing.T) {
	t.Parallel()
	for _, locale := range mail.Locales() {
		t.Run(string(locale), func(t *testing.T) {
			srv := mailtest.NewServer(t)
			logger, logs := newLogger()
			s, err := mail.NewSMTPSender(srv.URL, testFrom, logger)
			if err != nil {
				t.Fatalf("NewSMTPSender(%q) error = %v", srv.URL, err)
			}
			m := newTestMessage(t, "evt-123.invitee@partners.local", locale)
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("Send() error = %v", err)
			}
			got := srv.WaitFor(t, 1, 5*time.Second)
			if len(got) != 1 {
				t.Fatalf("received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.ParseError != nil {
				t.Errorf("ParseError = %v", r.ParseError)
			}
			checks := []struct{ field, got, want string }{
				{"MessageID", r.MessageID, m.ID},
				{"From", r.From, "noreply@partners.local"},
				{"To", strings.Join(r.To, ","), testTo},
				{"Subject", r.Subject, m.Subject},
				{"ContentLanguage", r.ContentLanguage, string(locale)},
				{"Text", normalizeNL(r.Text), m.Text},
				{"HTML", normalizeNL(r.HTML), m.HTML},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
			for _, h := range []string{
				"\r\nMessage-ID: <evt-123.invitee@partners.local>\r\n",
				"\r\nContent-Language: " + string(locale) + "\r\n",
				"\r\nAuto-Submitted: auto-generated\r\n",
				"\r\nDate: ",
				"multipart/alternative",
			} {
				if !bytes.Contains(append([]byte("\r\n"), r.Raw...), []byte(h)) {
					t.Errorf("raw message lacks %q:\n%s", h, r.Raw)
				}
			}
			log := logs.String()
			assertNoSecrets(t, "log", log)
			if !strings.Contains(log, "b***@example.com") || !strings.Contains(log, "mail sent") {
				t.Errorf("log lacks the masked recipient or the success line:\n%s", log)
			}
		})
	}
}

func TestSMTPSenderFailNext(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	logger, logs := newLogger()
	s, err := mail.NewSMTPSender(srv.URL, testFrom, logger)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v", err)
	}
	m := newTestMessage(t, "evt-9.invitee@partners.local", mail.LocaleEN)

	srv.FailNext(1)
	err = s.Send(context.Background(), m)
	if err == nil {
		t.Fatal("Send() error = nil, want a temporary failure")
	}
	var se *mail.SendError
	if !errors.As(err, &se) {
		t.Fatalf("Send() error = %T %v, want *mail.SendError", err, err)
	}
	if se.Code != 451 || !se.Temporary || !mail.IsTemporary(err) || se.MessageID != m.ID {
		t.Errorf("SendError = %+v, want Code 451, Temporary, MessageID %q", se, m.ID)
	}
	assertNoSecrets(t, "error", err.Error())
	if !strings.Contains(err.Error(), m.ID) {
		t.Errorf("error %q does not name the Message-ID %q", err, m.ID)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server stored %d messages after a failure, want 0", n)
	}

	// The retry goes through, with the same Message-ID.
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("retry Send() error = %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)
	if len(got) != 1 || got[0].MessageID != m.ID {
		t.Errorf("received %d messages (first id %q), want 1 with id %q", len(got), got[0].MessageID, m.ID)
	}
	assertNoSecrets(t, "log", logs.String())
}

func TestSMTPSenderTLSAndAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []mailtest.Option
		userinfo string
		wantTLS  bool
		wantUser string
	}{
		{"plain no auth", nil, "", false, ""},
		{"plain auth on loopback", nil, "alice:p%40ss", false, "alice"},
		{"starttls required", []mailtest.Option{mailtest.WithSTARTTLS()}, "", true, ""},
		{"starttls with auth", []mailtest.Option{mailtest.WithSTARTTLS()}, "alice:pw", true, "alice"},
		{"implicit tls with auth", []mailtest.Option{mailtest.WithImplicitTLS()}, "carol:pw", true, "carol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.NewServer(t, tt.opts...)
			u := srv.URL
			if tt.userinfo != "" {
				u = strings.Replace(u, "://", "://"+tt.userinfo+"@", 1)
			}
			s, err := mail.NewSMTPSender(u, testFrom, nil)
			if err != nil {
				t.Fatalf("NewSMTPSender(%q) error = %v", u, err)
			}
			m := newTestMessage(t, "evt-1.tls@partners.local", mail.LocaleDE)
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("Send() error = %v", err)
			}
			r := srv.WaitFor(t, 1, 5*time.Second)[0]
			if r.TLS != tt.wantTLS || r.AuthUsername != tt.wantUser || r.MessageID != m.ID {
				t.Errorf("received TLS=%v user=%q id=%q, want TLS=%v user=%q id=%q",
					r.TLS, r.AuthUsername, r.MessageID, tt.wantTLS, tt.wantUser, m.ID)
			}
		})
	}
}

func TestSMTPSenderStartTLSRequiredButNotOffered(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	u := strings.Replace(srv.URL, "starttls=none", "starttls=required", 1)
	s, err := mail.NewSMTPSender(u, testFrom, nil)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v", err)
	}
	err = s.Send(context.Background(), newTestMessage(t, "evt-2.x@partners.local", mail.LocaleEN))
	if err == nil || !mail.IsTemporary(err) {
		t.Fatalf("Send() error = %v, want a temporary error", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages in clear text, want 0", n)
	}
}

func TestSMTPSenderOpportunisticWithoutSTARTTLS(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s, err := mail.NewSMTPSender("smtp://"+srv.Addr, testFrom, nil) // default: opportunistic
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v", err)
	}
	if err := s.Send(context.Background(), newTestMessage(t, "evt-3.x@partners.local", mail.LocaleEN)); err != nil {
		t.Fatalf("Send() error = %v", err)
	}
	srv.WaitFor(t, 1, 5*time.Second)
}

func TestSMTPSenderHonoursContext(t *testing.T) {
	t.Parallel()
	// A server that accepts connections and never says hello.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); conns.Wait() })
	conns.Add(1)
	go func() {
		defer conns.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { defer conns.Done(); _, _ = io.Copy(io.Discard, c); _ = c.Close() }()
		}
	}()

	s, err := mail.NewSMTPSender("smtp://"+ln.Addr().String()+"?starttls=none", testFrom, nil)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, newTestMessage(t, "evt-4.x@partners.local", mail.LocaleEN))
	if !errors.Is(err, context.DeadlineExceeded) || !mail.IsTemporary(err) {
		t.Errorf("Send() error = %v, want a temporary error wrapping context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send() took %s, want it bounded by the context", d)
	}
}

func TestSMTPSenderConcurrent(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s, err := mail.NewSMTPSender(srv.URL, testFrom, nil)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v", err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.Send(context.Background(), newTestMessage(t, fmt.Sprintf("evt-%d.c@partners.local", i), mail.LocaleFR))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send() error = %v", err)
		}
	}
	var ids []string
	for _, r := range srv.WaitFor(t, n, 5*time.Second) {
		ids = append(ids, r.MessageID)
	}
	slices.Sort(ids)
	if got := slices.Compact(ids); len(got) != n {
		t.Errorf("distinct Message-IDs = %v, want %d", got, n)
	}
}

func TestSendInvalidMessage(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	smtpSender, err := mail.NewSMTPSender(srv.URL, testFrom, nil)
	if err != nil {
		t.Fatalf("NewSMTPSender() error = %v", err)
	}
	senders := map[string]mail.Sender{
		"smtp": smtpSender,
		"file": mail.NewFileSender(t.TempDir(), testFrom, nil),
	}
	good := newTestMessage(t, "evt-5.x@partners.local", mail.LocaleEN)
	tests := []struct {
		name string
		edit func(*mail.Message)
	}{
		{"empty id", func(m *mail.Message) { m.ID = "" }},
		{"id without at", func(m *mail.Message) { m.ID = "evt-5" }},
		{"id with brackets", func(m *mail.Message) { m.ID = "<evt-5@partners.local>" }},
		{"id with header injection", func(m *mail.Message) { m.ID = "evt-5@p\r\nBcc: x@example.com" }},
		{"id with space", func(m *mail.Message) { m.ID = "evt 5@partners.local" }},
		{"no recipient", func(m *mail.Message) { m.To = "" }},
		{"two recipients", func(m *mail.Message) { m.To = testTo + ", eve@example.com" }},
		{"bad recipient", func(m *mail.Message) { m.To = "bob.martin" }},
		{"bad locale", func(m *mail.Message) { m.Locale = "xx" }},
		{"empty subject", func(m *mail.Message) { m.Subject = " \n" }},
		{"empty body", func(m *mail.Message) { m.Text, m.HTML = "", "" }},
	}
	for name, s := range senders {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				m := good
				tt.edit(&m)
				err := s.Send(context.Background(), m)
				if !errors.Is(err, mail.ErrInvalidMessage) || mail.IsTemporary(err) {
					t.Errorf("Send() error = %v, want a permanent mail.ErrInvalidMessage", err)
				}
				if err != nil {
					assertNoSecrets(t, "error", err.Error())
				}
			})
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d invalid messages, want 0", n)
	}
}

func TestNewSMTPSenderURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		want      mail.SMTPURLInfo
	}{
		{"smtp default port", "smtp://mail.example.com",
			mail.SMTPURLInfo{Host: "mail.example.com", Port: 587, STARTTLS: "TLSOpportunistic", Timeout: "30s"}},
		{"smtps default port", "smtps://mail.example.com/",
			mail.SMTPURLInfo{Host: "mail.example.com", Port: 465, ImplicitTLS: true, STARTTLS: "TLSOpportunistic", Timeout: "30s"}},
		{"credentials and options", "smtp://user%40x:p%3Ass@mail.example.com:2525?starttls=required&timeout=5s",
			mail.SMTPURLInfo{Host: "mail.example.com", Port: 2525, STARTTLS: "TLSMandatory", Auth: true, Timeout: "5s"}},
		{"no tls", "SMTP://127.0.0.1:1025?starttls=none",
			mail.SMTPURLInfo{Host: "127.0.0.1", Port: 1025, STARTTLS: "NoTLS", Timeout: "30s"}},
		{"ipv6 and insecure", "smtps://[::1]:4650?insecure_skip_verify=true",
			mail.SMTPURLInfo{Host: "::1", Port: 4650, ImplicitTLS: true, STARTTLS: "TLSOpportunistic", Insecure: true, Timeout: "30s"}},
		{"credentials without tls on loopback", "smtp://u:p@localhost:25?starttls=none",
			mail.SMTPURLInfo{Host: "localhost", Port: 25, STARTTLS: "NoTLS", Auth: true, Timeout: "30s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mail.ParseSMTPURLForTest(tt.url)
			if err != nil {
				t.Fatalf("parse(%q) error = %v", tt.url, err)
			}
			if got != tt.want {
				t.Errorf("parse(%q) = %+v, want %+v", tt.url, got, tt.want)
			}
			if _, err := mail.NewSMTPSender(tt.url, testFrom, nil); err != nil {
				t.Errorf("NewSMTPSender(%q) error = %v", tt.url, err)
			}
		})
	}
}

func TestNewSMTPSenderRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, url, from string }{
		{"empty", "", testFrom},
		{"no scheme", "mail.example.com:587", testFrom},
		{"http scheme", "http://mail.example.com", testFrom},
		{"no host", "smtp://", testFrom},
		{"opaque", "smtp:mail.example.com", testFrom},
		{"port zero", "smtp://mail.example.com:0", testFrom},
		{"port too big", "smtp://mail.example.com:70000", testFrom},
		{"port not a number", "smtp://u:S3CRET@mail.example.com:abc", testFrom},
		{"unparseable", "smtp://u:S3CRET@mail.example.com:2%zz5", testFrom},
		{"path", "smtp://mail.example.com/relay", testFrom},
		{"fragment", "smtp://mail.example.com#x", testFrom},
		{"unknown option", "smtp://mail.example.com?tls=yes", testFrom},
		{"bad starttls", "smtp://mail.example.com?starttls=maybe", testFrom},
		{"repeated option", "smtp://mail.example.com?starttls=none&starttls=required", testFrom},
		{"starttls on smtps", "smtps://mail.example.com?starttls=none", testFrom},
		{"bad insecure flag", "smtp://mail.example.com?insecure_skip_verify=sure", testFrom},
		{"bad timeout", "smtp://mail.example.com?timeout=-1s", testFrom},
		{"credentials in clear", "smtp://u:S3CRET@mail.example.com?starttls=none", testFrom},
		{"empty user", "smtp://:S3CRET@mail.example.com", testFrom},
		{"bad from", "smtp://mail.example.com", "not an address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mail.NewSMTPSender(tt.url, tt.from, nil)
			if err == nil {
				t.Fatalf("NewSMTPSender(%q) = %v, nil; want an error", tt.url, s)
			}
			if strings.Contains(err.Error(), "S3CRET") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestFileSender(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "outbox", "mail")
	logger, logs := newLogger()
	s := mail.NewFileSender(dir, testFrom, logger)
	ctx := context.Background()

	first := newTestMessage(t, "evt-123.invitee@partners.local", mail.LocaleFR)
	if err := s.Send(ctx, first); err != nil {
		t.Fatalf("Send() error = %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir stat = %v, %v; want mode 0700", fi, err)
	}

	// Same message again, with a different subject: same file, overwritten.
	again := first
	again.Subject = "Second attempt"
	if err := s.Send(ctx, again); err != nil {
		t.Fatalf("second Send() error = %v", err)
	}
	// Another message (with an ID that needs sanitizing): a second file.
	other := newTestMessage(t, "evt/../124.invitee@partners.local", mail.LocaleEN)
	if err := s.Send(ctx, other); err != nil {
		t.Fatalf("third Send() error = %v", err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	wantNames := []string{mail.EMLFileName(first.ID), mail.EMLFileName(other.ID)}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Fatalf("files = %v, want %v", names, wantNames)
	}

	tests := []struct {
		name        string
		msg         mail.Message
		wantSubject string
	}{
		{"overwritten", first, "Second attempt"},
		{"sanitized name", other, other.Subject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, mail.EMLFileName(tt.msg.ID))
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			pm, err := netmail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("file is not a parseable message: %v", err)
			}
			if got, want := pm.Header.Get("Message-Id"), "<"+tt.msg.ID+">"; got != want {
				t.Errorf("Message-ID = %q, want %q", got, want)
			}
			if got := pm.Header.Get("Subject"); !strings.Contains(got, tt.wantSubject) && tt.wantSubject == "Second attempt" {
				t.Errorf("Subject = %q, want %q", got, tt.wantSubject)
			}
			if got, want := pm.Header.Get("Content-Language"), string(tt.msg.Locale); got != want {
				t.Errorf("Content-Language = %q, want %q", got, want)
			}
			if to, err := pm.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != testTo {
				t.Errorf("To = %v (%v), want [%s]", to, err, testTo)
			}
		})
	}

	log := logs.String()
	assertNoSecrets(t, "log", log)
	if !strings.Contains(log, "b***@example.com") || !strings.Contains(log, filepath.Join(dir, mail.EMLFileName(first.ID))) {
		t.Errorf("log lacks the masked recipient or the path:\n%s", log)
	}
}

func TestFileSenderMatchesSMTP(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	smtpSender, err := mail.NewSMTPSender(srv.URL, testFrom, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m := newTestMessage(t, "evt-7.same@partners.local", mail.LocaleDE)
	if err := smtpSender.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := mail.NewFileSender(dir, testFrom, nil).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	viaSMTP := srv.WaitFor(t, 1, 5*time.Second)[0].Raw
	viaFile, err := os.ReadFile(filepath.Join(dir, mail.EMLFileName(m.ID)))
	if err != nil {
		t.Fatal(err)
	}
	headers := func(raw []byte) []string {
		pm, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range pm.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	if a, b := headers(viaSMTP), headers(viaFile); !slices.Equal(a, b) {
		t.Errorf("header names differ: smtp %v, file %v", a, b)
	}
}

func TestFileSenderBadFromAndCancelledContext(t *testing.T) {
	t.Parallel()
	m := newTestMessage(t, "evt-8.x@partners.local", mail.LocaleEN)
	err := mail.NewFileSender(t.TempDir(), "nope", nil).Send(context.Background(), m)
	if !errors.Is(err, mail.ErrInvalidMessage) {
		t.Errorf("Send() with a bad from: error = %v, want mail.ErrInvalidMessage", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	err = mail.NewFileSender(dir, testFrom, nil).Send(ctx, m)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Send() with a cancelled context: error = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written despite cancellation: %v", entries)
	}
}

func TestEMLFileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id      string
		wantPre string
		hashed  bool
	}{
		{"evt-123.invitee@partners.local", "evt-123.invitee@partners.local", false},
		{"evt/1@x", "evt_1@x-", true},
		{"evt_1@x", "evt_1@x", false},
		{"../../etc@passwd", "_._.._etc@passwd-", true},
		{".hidden@x", "_hidden@x-", true},
		{strings.Repeat("a", 300) + "@x", strings.Repeat("a", 160) + "-", true},
	}
	for _, tt := range tests {
		t.Run(tt.id[:min(len(tt.id), 40)], func(t *testing.T) {
			got := mail.EMLFileName(tt.id)
			if !strings.HasPrefix(got, tt.wantPre) || !strings.HasSuffix(got, ".eml") || strings.ContainsAny(got, "/\\") {
				t.Errorf("EMLFileName(%q) = %q, want prefix %q, suffix .eml, no separators", tt.id, got, tt.wantPre)
			}
			if wantLen := len(tt.wantPre) + len(".eml"); !tt.hashed && len(got) != wantLen {
				t.Errorf("EMLFileName(%q) = %q, want no hash", tt.id, got)
			}
			if got != mail.EMLFileName(tt.id) {
				t.Errorf("EMLFileName(%q) is not deterministic", tt.id)
			}
		})
	}
	if a, b := mail.EMLFileName("evt/1@x"), mail.EMLFileName("evt_1@x"); a == b {
		t.Errorf("EMLFileName collides for different IDs: %q", a)
	}
}
