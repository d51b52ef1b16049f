package mail

import gomail "github.com/wneessen/go-mail"

// SMTPTransport reads rawURL as NewSMTPSender does and tells how its mail
// travels: encrypted when every connection is TLS (smtps://, or smtp:// with
// starttls=required), verified unless insecure_skip_verify=true. The
// configuration uses it to refuse plain-text SMTP in production. Like
// NewSMTPSender, its errors never contain the URL or the credentials.
func SMTPTransport(rawURL string) (encrypted, verified bool, err error) {
	cfg, err := parseSMTPURL(rawURL)
	if err != nil {
		return false, false, err
	}
	return cfg.implicitTLS || cfg.policy == gomail.TLSMandatory, !cfg.insecure, nil
}
