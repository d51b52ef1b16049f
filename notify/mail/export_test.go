package mail

// SMTPURLInfo exposes the parsed form of an SMTP URL to the external tests.
type SMTPURLInfo struct {
	Host        string
	Port        int
	ImplicitTLS bool
	STARTTLS    string // go-mail policy name
	Auth        bool
	Insecure    bool
	Timeout     string
}

func ParseSMTPURLForTest(raw string) (SMTPURLInfo, error) {
	c, err := parseSMTPURL(raw)
	if err != nil {
		return SMTPURLInfo{}, err
	}
	return SMTPURLInfo{
		Host: c.host, Port: c.port, ImplicitTLS: c.implicitTLS, STARTTLS: c.policy.String(),
		Auth: c.auth, Insecure: c.insecure, Timeout: c.timeout.String(),
	}, nil
}
