package mailtest_test

import (
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"partners/notify/mail/mailtest"
)

const rawMixed = "From: Sender <sender@example.com>\r\n" +
	"To: rcpt@example.com\r\n" +
	"Subject: =?UTF-8?q?Caf=C3=A9_cr=C3=A8me?=\r\n" +
	"Message-ID: <abc.1@test.local>\r\n" +
	"Content-Language: fr\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n" +
	"\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"Q2Fmw6kgY3LDqG1l\r\n" +
	"IG91IHRow6kgPw==\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"<p>Caf=C3=A9 cr=C3=A8me ou th=C3=A9 =\r\n" +
	"?</p>\r\n" +
	"--inner--\r\n" +
	"--outer\r\n" +
	"Content-Type: application/pdf\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"JVBERi0=\r\n" +
	"--outer--\r\n"

func TestServerDecodesAndCopies(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	if !strings.HasPrefix(srv.URL, "smtp://127.0.0.1:") || !strings.HasSuffix(srv.URL, "?starttls=none") {
		t.Errorf("URL = %q, want smtp://127.0.0.1:port?starttls=none", srv.URL)
	}
	err := smtp.SendMail(srv.Addr, nil, "bounce@example.com", []string{"rcpt@example.com", "cc@example.com"}, []byte(rawMixed))
	if err != nil {
		t.Fatalf("SendMail() error = %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)
	r := got[0]
	checks := []struct{ field, got, want string }{
		{"MessageID", r.MessageID, "abc.1@test.local"},
		{"From", r.From, "bounce@example.com"},
		{"To", strings.Join(r.To, ","), "rcpt@example.com,cc@example.com"},
		{"Subject", r.Subject, "Café crème"},
		{"ContentLanguage", r.ContentLanguage, "fr"},
		{"Text", r.Text, "Café crème ou thé ?"},
		{"HTML", strings.TrimSpace(r.HTML), "<p>Café crème ou thé ?</p>"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if r.ParseError != nil || r.TLS || r.AuthUsername != "" {
		t.Errorf("ParseError=%v TLS=%v AuthUsername=%q, want nil, false, empty", r.ParseError, r.TLS, r.AuthUsername)
	}

	// Messages returns copies.
	got[0].To[0] = "changed"
	got[0].Raw[0] = 'X'
	again := srv.Messages()[0]
	if again.To[0] != "rcpt@example.com" || again.Raw[0] != 'F' {
		t.Errorf("Messages() shares memory with the server: To[0]=%q Raw[0]=%q", again.To[0], again.Raw[0])
	}
}

func TestServerFailNextAndAuth(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	msg := []byte("Subject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n")
	auth := smtp.PlainAuth("", "robot", "any-password", "127.0.0.1")

	srv.FailNext(2)
	for i := range 2 {
		err := smtp.SendMail(srv.Addr, auth, "a@example.com", []string{"b@example.com"}, msg)
		var perr *textproto.Error
		if !errors.As(err, &perr) || perr.Code != 451 {
			t.Fatalf("attempt %d: SendMail() error = %v, want a 451 reply", i+1, err)
		}
	}
	if err := smtp.SendMail(srv.Addr, auth, "a@example.com", []string{"b@example.com"}, msg); err != nil {
		t.Fatalf("third SendMail() error = %v, want nil", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)
	if len(got) != 1 || got[0].AuthUsername != "robot" || strings.TrimSpace(got[0].Text) != "body" {
		t.Fatalf("got %+v, want one message from robot with body %q", got, "body")
	}

	srv.Reset()
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("after Reset, %d messages, want 0", n)
	}
}
