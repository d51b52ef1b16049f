package mail

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
)

// Kind identifies a transactional e-mail template.
type Kind string

// Supported kinds, with the Data fields each one uses. Fields marked
// "required" make Render fail when empty; Link is required by every kind.
const (
	// KindPartnerInvitation: a client invites a subcontractor or vice versa.
	// Data: InviterName (required), InviterSide ("client"|"subcontractor",
	// required), InviteeSide (the other side; derived when empty), Message
	// (optional personal message), RecipientName (the contact greeted,
	// optional), Link, ExpiresAt (optional).
	KindPartnerInvitation Kind = "partner_invitation"
	// KindContractShared: a contract was shared with a client-portal user.
	// Data: OrganizationName (required), RecipientName, ContractTitle
	// (required), Role ("requester"|"watcher", optional), Link.
	KindContractShared Kind = "contract_shared"
	// KindAccountantInvitation: an organization invites its accountant.
	// Data: OrganizationName (required), InviterName (required), Message,
	// Link, ExpiresAt.
	KindAccountantInvitation Kind = "accountant_invitation"
	// KindMemberInvitation: a colleague is invited into an organization.
	// Data: OrganizationName (required), InviterName (required), Role
	// ("admin"|"member", optional), Link, ExpiresAt.
	KindMemberInvitation Kind = "member_invitation"
	// KindCollaboratorActivation: a collaborator account must be activated.
	// Data: OrganizationName (required), FirstName, Link, CanPurchase,
	// CanSeeAllOrders.
	KindCollaboratorActivation Kind = "collaborator_activation"
	// KindInvitationClaimed: the person who sent a partner invitation is
	// told that an organization claimed it with the link, and how to
	// revoke it. Data: OrganizationName (the claiming organization,
	// required), Email (the invited email, optional), Link (their
	// "Invitations sent").
	KindInvitationClaimed Kind = "invitation_claimed"
	// KindInvitationAccepted and KindInvitationDeclined: the person who sent
	// a partner invitation is told how it was answered. Data:
	// OrganizationName (the answering organization, required), Email (the
	// invited email, optional), Link (the partner, or their "Invitations
	// sent").
	KindInvitationAccepted Kind = "invitation_accepted"
	KindInvitationDeclined Kind = "invitation_declined"
)

// Kinds returns every supported kind.
func Kinds() []Kind {
	return []Kind{
		KindPartnerInvitation, KindContractShared, KindAccountantInvitation,
		KindMemberInvitation, KindCollaboratorActivation, KindInvitationClaimed,
		KindInvitationAccepted, KindInvitationDeclined,
	}
}

// Partner sides and roles understood by the templates.
const (
	SideClient        = "client"
	SideSubcontractor = "subcontractor"

	RoleRequester = "requester" // KindContractShared
	RoleWatcher   = "watcher"   // KindContractShared
	RoleAdmin     = "admin"     // KindMemberInvitation
	RoleMember    = "member"    // KindMemberInvitation
)

// Data is the union of the values the templates use; see each Kind for the
// fields it reads. Values are plain text: they are escaped in HTML.
type Data struct {
	InviterName      string
	InviterSide      string // "client" | "subcontractor"
	InviteeSide      string // "client" | "subcontractor"
	Message          string // optional personal message, may span lines
	Link             string // absolute http(s) URL; may carry a token
	OrganizationName string
	RecipientName    string
	ContractTitle    string
	Role             string
	FirstName        string
	ExpiresAt        time.Time // zero means "no expiry shown"
	CanPurchase      bool
	CanSeeAllOrders  bool
	Email            string // an email address the text names
}

// Content is a rendered e-mail: a one-line subject, a plain-text body and an
// HTML alternative of the same text.
type Content struct {
	Subject string
	Text    string
	HTML    string
}

var (
	// ErrUnknownKind is returned by Render for a kind it has no template for.
	ErrUnknownKind = errors.New("mail: unknown kind")
	// ErrUnsupportedLocale is returned by Render for a locale other than
	// those of Locales.
	ErrUnsupportedLocale = errors.New("mail: unsupported locale")
	// ErrInvalidData is returned by Render when a required field is missing
	// or a field has a value the templates do not know. Its message names
	// the field, never its value.
	ErrInvalidData = errors.New("mail: invalid template data")
)

// Render produces the subject, text and HTML bodies of kind in locale. An
// empty locale means English; "fr-FR" or "DE" are accepted as their
// language. Text is rendered with text/template, HTML with
// html/template, so anything coming from users (names, the personal
// message) is escaped in the HTML body.
func Render(kind Kind, locale Locale, d Data) (Content, error) {
	kt, ok := catalog[kind]
	if !ok {
		return Content{}, fmt.Errorf("%w %q", ErrUnknownKind, truncate(string(kind), 64))
	}
	if locale == "" {
		locale = DefaultLocale
	}
	norm, ok := SupportedLocale(string(locale))
	if !ok {
		return Content{}, fmt.Errorf("%w %q", ErrUnsupportedLocale, truncate(string(locale), 16))
	}
	locale = norm
	lt := kt[locale]
	lc := common[locale]

	v, err := newView(kind, lc, d)
	if err != nil {
		return Content{}, err
	}

	var ld layoutData
	ld.Lang = string(locale)
	ld.Link = v.Link
	ld.LinkFallback = lc.linkFallback
	ld.Footer = lc.footer
	ld.Colon = lc.colon
	if ld.Subject, err = execLine(lt.subject, v); err != nil {
		return Content{}, renderErr(kind, locale, err)
	}
	if ld.Greeting, err = exec(lt.greeting, v); err != nil {
		return Content{}, renderErr(kind, locale, err)
	}
	if ld.Paragraphs, err = execAll(lt.paragraphs, v); err != nil {
		return Content{}, renderErr(kind, locale, err)
	}
	if v.Message != "" && lt.messageIntro != nil {
		if ld.MessageIntro, err = exec(lt.messageIntro, v); err != nil {
			return Content{}, renderErr(kind, locale, err)
		}
		ld.Message = v.Message
		ld.QuotedMessage = "> " + strings.ReplaceAll(v.Message, "\n", "\n> ")
	}
	if ld.Items, err = execAll(lt.items, v); err != nil {
		return Content{}, renderErr(kind, locale, err)
	}
	if len(ld.Items) > 0 {
		if ld.ItemsIntro, err = exec(lt.itemsIntro, v); err != nil {
			return Content{}, renderErr(kind, locale, err)
		}
	}
	if ld.Action, err = exec(lt.action, v); err != nil {
		return Content{}, renderErr(kind, locale, err)
	}
	if ld.Notes, err = execAll(lt.notes, v); err != nil {
		return Content{}, renderErr(kind, locale, err)
	}
	if ld.Subject == "" {
		return Content{}, renderErr(kind, locale, errors.New("empty subject"))
	}

	var text, html bytes.Buffer
	if err := textLayout.Execute(&text, ld); err != nil {
		return Content{}, renderErr(kind, locale, err)
	}
	if err := htmlLayout.Execute(&html, ld); err != nil {
		return Content{}, renderErr(kind, locale, err)
	}
	return Content{Subject: ld.Subject, Text: text.String(), HTML: html.String()}, nil
}

func renderErr(kind Kind, locale Locale, err error) error {
	return fmt.Errorf("mail: render %s/%s: %w", kind, locale, err)
}

// view is what the per-kind snippets see: the caller's data, normalized,
// with side and role codes replaced by localized words and the expiry
// formatted for the locale.
type view struct {
	InviterName      string
	InviterSide      string
	InviteeSide      string
	Message          string
	Link             string
	OrganizationName string
	RecipientName    string
	ContractTitle    string
	Role             string
	FirstName        string
	Expires          string
	CanPurchase      bool
	CanSeeAllOrders  bool
	Email            string
}

// layoutData feeds the shared text and HTML layouts.
type layoutData struct {
	Lang          string
	Subject       string
	Greeting      string
	Paragraphs    []string
	MessageIntro  string
	Message       string
	QuotedMessage string
	ItemsIntro    string
	Items         []string
	Action        string
	Colon         string // ":" or, in French, " :"
	Link          string
	LinkFallback  string
	Notes         []string
	Footer        string
}

func newView(kind Kind, lc localeCommon, d Data) (view, error) {
	v := view{
		InviterName:      oneLine(d.InviterName),
		OrganizationName: oneLine(d.OrganizationName),
		RecipientName:    oneLine(d.RecipientName),
		ContractTitle:    oneLine(d.ContractTitle),
		FirstName:        oneLine(d.FirstName),
		Email:            oneLine(d.Email),
		Message:          multiLine(d.Message),
		Link:             strings.TrimSpace(d.Link),
		CanPurchase:      d.CanPurchase,
		CanSeeAllOrders:  d.CanSeeAllOrders,
	}
	if !d.ExpiresAt.IsZero() {
		v.Expires = lc.formatTime(d.ExpiresAt.UTC())
	}
	if err := validLink(v.Link); err != nil {
		return view{}, fmt.Errorf("%w: %s: %v", ErrInvalidData, kind, err)
	}
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidData, kind, fmt.Sprintf(format, args...))
	}
	required := func(fields ...string) error {
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i+1] == "" {
				return invalid("%s is required", fields[i])
			}
		}
		return nil
	}

	switch kind {
	case KindPartnerInvitation:
		if err := required("InviterName", v.InviterName); err != nil {
			return view{}, err
		}
		inviter := strings.ToLower(strings.TrimSpace(d.InviterSide))
		invitee := strings.ToLower(strings.TrimSpace(d.InviteeSide))
		if inviter != SideClient && inviter != SideSubcontractor {
			return view{}, invalid("InviterSide must be %q or %q", SideClient, SideSubcontractor)
		}
		if invitee == "" {
			invitee = otherSide(inviter)
		}
		if invitee != otherSide(inviter) {
			return view{}, invalid("InviteeSide must be the side opposite to InviterSide")
		}
		v.InviterSide, v.InviteeSide = lc.sides[inviter], lc.sides[invitee]
	case KindContractShared:
		if err := required("OrganizationName", v.OrganizationName, "ContractTitle", v.ContractTitle); err != nil {
			return view{}, err
		}
		role, err := roleLabel(lc, d.Role, RoleRequester, RoleWatcher)
		if err != nil {
			return view{}, invalid("%v", err)
		}
		v.Role = role
	case KindAccountantInvitation:
		if err := required("OrganizationName", v.OrganizationName, "InviterName", v.InviterName); err != nil {
			return view{}, err
		}
	case KindMemberInvitation:
		if err := required("OrganizationName", v.OrganizationName, "InviterName", v.InviterName); err != nil {
			return view{}, err
		}
		role, err := roleLabel(lc, d.Role, RoleAdmin, RoleMember)
		if err != nil {
			return view{}, invalid("%v", err)
		}
		v.Role = role
	case KindCollaboratorActivation, KindInvitationClaimed, KindInvitationAccepted, KindInvitationDeclined:
		if err := required("OrganizationName", v.OrganizationName); err != nil {
			return view{}, err
		}
	}
	return v, nil
}

func otherSide(side string) string {
	if side == SideClient {
		return SideSubcontractor
	}
	return SideClient
}

// roleLabel localizes role, which must be one of allowed or empty.
func roleLabel(lc localeCommon, role string, allowed ...string) (string, error) {
	role = strings.ToLower(strings.TrimSpace(role))
	if role == "" {
		return "", nil
	}
	for _, a := range allowed {
		if role == a {
			return lc.roles[role], nil
		}
	}
	return "", fmt.Errorf("Role must be empty or one of %q", allowed)
}

// validLink accepts absolute http(s) URLs only. Its errors never quote the
// link, which usually carries a secret token.
func validLink(link string) error {
	if link == "" {
		return errors.New("Link is required")
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("Link must be an absolute http(s) URL")
	}
	if strings.ContainsAny(link, " \t\r\n") {
		return errors.New("Link must not contain whitespace")
	}
	return nil
}

// oneLine collapses runs of blanks and line breaks to single spaces and
// trims the result. Non-breaking spaces (French typography) are kept.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0x2028, 0x2029:
			return true
		}
		return false
	}), " ")
}

// multiLine normalizes line endings, trims each line's trailing blanks and
// the whole text.
func multiLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func exec(t *texttemplate.Template, v view) (string, error) {
	if t == nil {
		return "", nil
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

func execLine(t *texttemplate.Template, v view) (string, error) {
	s, err := exec(t, v)
	return oneLine(s), err
}

// execAll renders each snippet, dropping those that render empty (a snippet
// may be entirely conditional).
func execAll(ts []*texttemplate.Template, v view) ([]string, error) {
	var out []string
	for _, t := range ts {
		s, err := exec(t, v)
		if err != nil {
			return nil, err
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// Shared layouts. Every kind and locale goes through these two, so the text
// and HTML bodies always say the same thing.
var (
	textLayout = texttemplate.Must(texttemplate.New("text").Parse(
		`{{.Greeting}}
{{range .Paragraphs}}
{{.}}
{{end}}{{if .Message}}
{{.MessageIntro}}
{{.QuotedMessage}}
{{end}}{{if .Items}}
{{.ItemsIntro}}
{{range .Items}}- {{.}}
{{end}}{{end}}
{{.Action}}{{.Colon}}
{{.Link}}
{{range .Notes}}
{{.}}
{{end}}
{{.Footer}}
`))

	htmlLayout = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f5f7;">
<div style="max-width:600px;margin:0 auto;padding:24px;background-color:#ffffff;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1f2933;">
<p>{{.Greeting}}</p>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Message}}<p>{{.MessageIntro}}</p>
<blockquote style="margin:0 0 16px 0;padding:8px 16px;border-left:3px solid #cbd2d9;color:#3e4c59;white-space:pre-line;">{{.Message}}</blockquote>
{{end}}{{if .Items}}<p>{{.ItemsIntro}}</p>
<ul>
{{range .Items}}<li>{{.}}</li>
{{end}}</ul>
{{end}}<p style="margin:24px 0;"><a href="{{.Link}}" style="display:inline-block;padding:12px 20px;background-color:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;">{{.Action}}</a></p>
<p style="font-size:13px;color:#52606d;">{{.LinkFallback}}<br><a href="{{.Link}}" style="color:#1d4ed8;word-break:break-all;">{{.Link}}</a></p>
{{range .Notes}}<p style="font-size:13px;color:#52606d;">{{.}}</p>
{{end}}<p style="font-size:12px;color:#7b8794;">{{.Footer}}</p>
</div>
</body>
</html>
`))
)
