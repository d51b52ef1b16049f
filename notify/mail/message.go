package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// Message is one e-mail to one recipient.
type Message struct {
	// ID is the Message-ID without angle brackets, e.g.
	// "evt-123.invitee@partners.local". It is chosen by the caller, must be
	// stable for a given (event, recipient) and is sent exactly as given.
	ID string
	// To is the single recipient address ("bob@example.com" or
	// "Bob <bob@example.com>").
	To string
	// Locale becomes the Content-Language header (normalized: "fr-FR" ->
	// "fr"). Empty means no header; an unsupported value is refused.
	Locale Locale
	Content
}

// Sender delivers messages. Implementations are safe for concurrent use.
//
// Delivery is at-least-once: when Send returns an error the message may, in
// rare cases (connection lost after the server accepted the data), have been
// delivered anyway. Retrying with the same Message.ID lets receiving systems
// recognize the duplicate.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalidMessage is wrapped by the error Send returns when a Message
// cannot be sent as given (bad ID, recipient, locale or empty content).
// Retrying such a message is pointless.
var ErrInvalidMessage = errors.New("mail: invalid message")

// SendError describes a failed delivery attempt. Its Error text never
// contains full e-mail addresses.
type SendError struct {
	MessageID string
	// Code is the SMTP reply code when the server rejected the message,
	// 0 otherwise (network, TLS, timeout...).
	Code int
	// Temporary reports whether retrying later may succeed: true for 4xx
	// replies and for connection, TLS, authentication and timeout failures,
	// false when the server answered with a permanent 5xx rejection.
	Temporary bool
	reason    string // already redacted
	err       error
	ctxErr    error
}

func (e *SendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mail: sending message %q failed", e.MessageID)
	if e.Code != 0 {
		fmt.Fprintf(&b, " (SMTP %d)", e.Code)
	}
	if e.ctxErr != nil {
		fmt.Fprintf(&b, ": %v", e.ctxErr)
	}
	if e.reason != "" {
		b.WriteString(": ")
		b.WriteString(e.reason)
	}
	return b.String()
}

// Unwrap exposes the underlying error and, when the call's context ended,
// the context error (so errors.Is(err, context.DeadlineExceeded) works).
// Beware: the underlying error's own text is not redacted.
func (e *SendError) Unwrap() []error {
	errs := []error{e.err}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

// IsTemporary reports whether err is a *SendError worth retrying.
func IsTemporary(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Temporary
}

// MaskEmail hides the local part of an address for logs:
// "alice@example.com" -> "a***@example.com". Anything that is not an
// address gives "***".
func MaskEmail(addr string) string {
	addr = strings.TrimSpace(addr)
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "***"
	}
	local, domain := addr[:at], addr[at+1:]
	if strings.ContainsAny(domain, "@ \t\r\n<>\"(),;:\\") || strings.ContainsAny(local, "@ \t\r\n<>") {
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(local)
	if r == utf8.RuneError {
		return "***"
	}
	return string(r) + "***@" + domain
}

// emailLike matches address-looking substrings in third-party error texts
// (SMTP replies often echo the recipient).
var emailLike = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*`)

func redactAddresses(s string) string {
	return emailLike.ReplaceAllStringFunc(s, MaskEmail)
}

// newSendError classifies a delivery failure.
func newSendError(id string, err, ctxErr error) *SendError {
	se := &SendError{MessageID: id, Temporary: true, err: err, ctxErr: ctxErr}
	if err != nil {
		// Mask addresses but keep the Message-ID, which looks like one.
		parts := []string{err.Error()}
		if id != "" {
			parts = strings.Split(parts[0], id)
		}
		for i, p := range parts {
			parts[i] = redactAddresses(p)
		}
		se.reason = strings.Join(parts, id)
	}
	var gse *gomail.SendError
	if errors.As(err, &gse) {
		se.Code = gse.ErrorCode()
		if se.Code >= 500 && se.Code < 600 {
			se.Temporary = false
		}
	}
	return se
}

// sender holds what both Sender implementations share.
type sender struct {
	from   *mail.Address
	logger *slog.Logger
}

func newSender(from string, logger *slog.Logger) (sender, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "mail")
	a, err := mail.ParseAddress(from)
	if err != nil {
		return sender{logger: logger}, errors.New("mail: invalid from address")
	}
	return sender{from: a, logger: logger}, nil
}

// Limits on caller-provided header values.
const (
	maxMessageIDLen = 250
	maxSubjectLen   = 998
)

// validMessageID checks that id can be used as <id> in a Message-ID header:
// printable ASCII atext, dots and an optional domain literal, exactly one
// '@' with non-empty sides, no whitespace or angle brackets.
func validMessageID(id string) error {
	if id == "" {
		return errors.New("empty message ID")
	}
	if len(id) > maxMessageIDLen {
		return fmt.Errorf("message ID longer than %d bytes", maxMessageIDLen)
	}
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") {
		return errors.New(`message ID must look like "left@right"`)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~.@[]", c) >= 0:
		default:
			return errors.New("message ID contains a character not allowed in a Message-ID")
		}
	}
	return nil
}

func invalidMessage(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...))
}

// build turns m into a go-mail message. Both senders go through it, so a
// file written by the file sender is what the SMTP sender would transmit.
func (s sender) build(m Message, now time.Time) (*gomail.Msg, error) {
	if s.from == nil {
		return nil, invalidMessage("sender has no valid from address")
	}
	if err := validMessageID(m.ID); err != nil {
		return nil, invalidMessage("%v", err)
	}
	to, err := mail.ParseAddress(strings.TrimSpace(m.To))
	if err != nil {
		return nil, invalidMessage("recipient is not a single valid address")
	}
	var lang Locale
	if m.Locale != "" {
		var ok bool
		if lang, ok = SupportedLocale(string(m.Locale)); !ok {
			return nil, invalidMessage("unsupported locale")
		}
	}
	subject := oneLine(m.Subject)
	if subject == "" {
		return nil, invalidMessage("empty subject")
	}
	if len(subject) > maxSubjectLen {
		return nil, invalidMessage("subject too long")
	}
	if strings.TrimSpace(m.Text) == "" && strings.TrimSpace(m.HTML) == "" {
		return nil, invalidMessage("empty body")
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(subject)
	msg.SetMessageIDWithValue(m.ID)
	msg.SetDateWithValue(now)
	msg.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	if lang != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, string(lang))
	}
	switch {
	case strings.TrimSpace(m.HTML) == "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	case strings.TrimSpace(m.Text) == "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// writeEML renders m as RFC 5322 bytes.
func (s sender) writeEML(w io.Writer, m Message, now time.Time) error {
	msg, err := s.build(m, now)
	if err != nil {
		return err
	}
	if _, err := msg.WriteTo(w); err != nil {
		return fmt.Errorf("mail: encoding message %q: %w", m.ID, err)
	}
	return nil
}
