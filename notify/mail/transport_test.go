package mail_test

import (
	"strings"
	"testing"

	"partners/notify/mail"
)

func TestSMTPTransport(t *testing.T) {
	for _, tc := range []struct {
		url                 string
		encrypted, verified bool
	}{
		{"smtp://mail.example.com", false, true},
		{"smtp://mail.example.com?starttls=opportunistic", false, true},
		{"smtp://mail.example.com?starttls=none", false, true},
		{"smtp://mail.example.com?starttls=required", true, true},
		{"smtps://mail.example.com", true, true},
		{"smtp://u:p@mail.example.com?starttls=required&insecure_skip_verify=true", true, false},
		{"smtps://mail.example.com?insecure_skip_verify=true", true, false},
	} {
		enc, ver, err := mail.SMTPTransport(tc.url)
		if err != nil || enc != tc.encrypted || ver != tc.verified {
			t.Errorf("SMTPTransport(%q) = %v, %v, %v; want %v, %v", tc.url, enc, ver, err, tc.encrypted, tc.verified)
		}
	}
	_, _, err := mail.SMTPTransport("smtp://user:hunter2@mail.example.com:notaport")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad URL: error %v; want one without the password", err)
	}
}
