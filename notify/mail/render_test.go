package mail_test

import (
	"errors"
	"html"
	"strings"
	"testing"
	"time"

	"partners/notify/mail"
)

const (
	testLink    = "https://app.partners.local/invitations/accept?token=tok_S3CRET&src=mail"
	testMessage = "Looking forward to working with you!\n<script>alert('x')</script> & more"
)

var testExpiry = time.Date(2026, time.March, 5, 14, 30, 0, 0, time.UTC)

func fullData() mail.Data {
	return mail.Data{
		InviterName:      "Alice <Admin> & Co",
		InviterSide:      "client",
		InviteeSide:      "subcontractor",
		Message:          testMessage,
		Link:             testLink,
		OrganizationName: "Acme Industries",
		RecipientName:    "Bob Martin",
		ContractTitle:    "Maintenance 2026",
		FirstName:        "Chloé",
		ExpiresAt:        testExpiry,
		CanPurchase:      true,
		CanSeeAllOrders:  false,
	}
}

func dataFor(kind mail.Kind) mail.Data {
	d := fullData()
	switch kind {
	case mail.KindContractShared:
		d.Role = "watcher"
	case mail.KindMemberInvitation:
		d.Role = "admin"
	}
	return d
}

// kindsWithMessage are the kinds whose template shows Data.Message.
var kindsWithMessage = map[mail.Kind]bool{
	mail.KindPartnerInvitation:    true,
	mail.KindAccountantInvitation: true,
}

func TestRenderEveryKindAndLocale(t *testing.T) {
	t.Parallel()
	escapedLink := html.EscapeString(testLink)
	for _, kind := range mail.Kinds() {
		for _, locale := range mail.Locales() {
			t.Run(string(kind)+"/"+string(locale), func(t *testing.T) {
				c, err := mail.Render(kind, locale, dataFor(kind))
				if err != nil {
					t.Fatalf("Render() error = %v, want nil", err)
				}
				if strings.TrimSpace(c.Subject) == "" || strings.ContainsAny(c.Subject, "\r\n") {
					t.Errorf("Subject = %q, want a non-empty single line", c.Subject)
				}
				if !strings.Contains(c.Text, testLink) {
					t.Errorf("Text does not contain the link %q; got:\n%s", testLink, c.Text)
				}
				if !strings.Contains(c.HTML, `href="`+escapedLink+`"`) {
					t.Errorf("HTML does not contain href=%q; got:\n%s", escapedLink, c.HTML)
				}
				if want := `<html lang="` + string(locale) + `">`; !strings.Contains(c.HTML, want) {
					t.Errorf("HTML does not contain %q", want)
				}
				// User-provided names are escaped in HTML, verbatim in text.
				if strings.Contains(c.HTML, "<Admin>") {
					t.Errorf("HTML contains unescaped <Admin>; got:\n%s", c.HTML)
				}
				if kindsWithMessage[kind] {
					if !strings.Contains(c.Text, "<script>alert('x')</script> & more") {
						t.Errorf("Text does not contain the personal message; got:\n%s", c.Text)
					}
					if strings.Contains(c.HTML, "<script>") {
						t.Errorf("HTML contains an unescaped <script>; got:\n%s", c.HTML)
					}
					if want := "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"; !strings.Contains(c.HTML, want) {
						t.Errorf("HTML does not contain the escaped message %q; got:\n%s", want, c.HTML)
					}
				} else if strings.Contains(c.Text, "<script>") || strings.Contains(c.HTML, "script") {
					t.Errorf("kind %s should not show the personal message", kind)
				}
			})
		}
	}
}

func TestRenderLocalizedWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		kind   mail.Kind
		locale mail.Locale
		edit   func(*mail.Data)
		want   []string // in Text and (escaped) in HTML
	}{
		{"partner en client invites", mail.KindPartnerInvitation, mail.LocaleEN, nil,
			[]string{"(client)", "as their subcontractor", "March 5, 2026 at 14:30 UTC"}},
		{"partner fr client invites", mail.KindPartnerInvitation, mail.LocaleFR, nil,
			[]string{"(client)", "en tant que sous-traitant", "5 mars 2026 à 14:30 UTC"}},
		{"partner de client invites", mail.KindPartnerInvitation, mail.LocaleDE, nil,
			[]string{"(Kunde)", "als Anbieter", "5. März 2026 um 14:30 Uhr UTC"}},
		{"partner fr subcontractor invites, invitee side derived", mail.KindPartnerInvitation, mail.LocaleFR,
			func(d *mail.Data) { d.InviterSide, d.InviteeSide = "subcontractor", "" },
			[]string{"(sous-traitant)", "en tant que client"}},
		{"partner de subcontractor invites", mail.KindPartnerInvitation, mail.LocaleDE,
			func(d *mail.Data) { d.InviterSide, d.InviteeSide = "Subcontractor", "client" },
			[]string{"(Anbieter)", "als Kunde"}},
		{"partner fr first of month", mail.KindPartnerInvitation, mail.LocaleFR,
			func(d *mail.Data) { d.ExpiresAt = time.Date(2026, 8, 1, 9, 5, 0, 0, time.UTC) },
			[]string{"1er août 2026 à 09:05 UTC"}},
		{"expiry converted to UTC", mail.KindMemberInvitation, mail.LocaleEN,
			func(d *mail.Data) { d.ExpiresAt = time.Date(2026, 3, 6, 1, 0, 0, 0, time.FixedZone("CET", 3600)) },
			[]string{"March 6, 2026 at 00:00 UTC"}},
		{"contract fr watcher", mail.KindContractShared, mail.LocaleFR,
			func(d *mail.Data) { d.Role = "watcher" },
			[]string{"Bonjour Bob Martin,", "«\u00a0Maintenance 2026\u00a0»", "Votre rôle\u00a0: observateur."}},
		{"contract de requester", mail.KindContractShared, mail.LocaleDE,
			func(d *mail.Data) { d.Role = "requester" },
			[]string{"„Maintenance 2026“", "Ihre Rolle: Anfragender."}},
		{"member en admin", mail.KindMemberInvitation, mail.LocaleEN,
			func(d *mail.Data) { d.Role = "admin" },
			[]string{"join the team of Acme Industries", "Your role: administrator."}},
		{"member de member", mail.KindMemberInvitation, mail.LocaleDE,
			func(d *mail.Data) { d.Role = "member" },
			[]string{"Ihre Rolle: Mitglied."}},
		{"collaborator fr permissions", mail.KindCollaboratorActivation, mail.LocaleFR, nil,
			[]string{"Bonjour Chloé,", "Vous pouvez passer des commandes.", "Vous ne voyez que vos propres commandes."}},
		{"collaborator en permissions inverted", mail.KindCollaboratorActivation, mail.LocaleEN,
			func(d *mail.Data) { d.CanPurchase, d.CanSeeAllOrders = false, true },
			[]string{"You cannot place orders.", "You can see all orders of Acme Industries."}},
		{"collaborator de without first name", mail.KindCollaboratorActivation, mail.LocaleDE,
			func(d *mail.Data) { d.FirstName = "" },
			[]string{"Hallo,", "Sie können Bestellungen aufgeben."}},
		{"locale with region", mail.KindAccountantInvitation, "FR-ca", nil,
			[]string{"en tant qu'expert-comptable"}},
		{"empty locale means English", mail.KindAccountantInvitation, "", nil,
			[]string{"as their accountant", "This invitation expires on March 5, 2026"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fullData()
			if tt.edit != nil {
				tt.edit(&d)
			}
			c, err := mail.Render(tt.kind, tt.locale, d)
			if err != nil {
				t.Fatalf("Render() error = %v, want nil", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(c.Text, w) {
					t.Errorf("Text does not contain %q; got:\n%s", w, c.Text)
				}
				if ew := html.EscapeString(w); !strings.Contains(c.HTML, ew) {
					t.Errorf("HTML does not contain %q; got:\n%s", ew, c.HTML)
				}
			}
		})
	}
}

func TestRenderWithoutOptionalFields(t *testing.T) {
	t.Parallel()
	d := mail.Data{InviterName: "Alice", InviterSide: "client", Link: testLink}
	c, err := mail.Render(mail.KindPartnerInvitation, mail.LocaleEN, d)
	if err != nil {
		t.Fatalf("Render() error = %v, want nil", err)
	}
	for _, absent := range []string{"expires", "personal message"} {
		if strings.Contains(c.Text, absent) || strings.Contains(c.HTML, absent) {
			t.Errorf("output mentions %q although the field is empty; text:\n%s", absent, c.Text)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	valid := func(kind mail.Kind, edit func(*mail.Data)) mail.Data {
		d := dataFor(kind)
		if edit != nil {
			edit(&d)
		}
		return d
	}
	tests := []struct {
		name    string
		kind    mail.Kind
		locale  mail.Locale
		data    mail.Data
		wantErr error
	}{
		{"unknown kind", "password_reset", mail.LocaleEN, fullData(), mail.ErrUnknownKind},
		{"empty kind", "", mail.LocaleEN, fullData(), mail.ErrUnknownKind},
		{"unsupported locale", mail.KindPartnerInvitation, "es", fullData(), mail.ErrUnsupportedLocale},
		{"missing link", mail.KindContractShared, mail.LocaleEN,
			valid(mail.KindContractShared, func(d *mail.Data) { d.Link = "" }), mail.ErrInvalidData},
		{"relative link", mail.KindMemberInvitation, mail.LocaleEN,
			valid(mail.KindMemberInvitation, func(d *mail.Data) { d.Link = "/accept?token=tok_S3CRET" }), mail.ErrInvalidData},
		{"javascript link", mail.KindMemberInvitation, mail.LocaleEN,
			valid(mail.KindMemberInvitation, func(d *mail.Data) { d.Link = "javascript:alert(1)//tok_S3CRET" }), mail.ErrInvalidData},
		{"missing inviter", mail.KindPartnerInvitation, mail.LocaleFR,
			valid(mail.KindPartnerInvitation, func(d *mail.Data) { d.InviterName = "  " }), mail.ErrInvalidData},
		{"unknown inviter side", mail.KindPartnerInvitation, mail.LocaleFR,
			valid(mail.KindPartnerInvitation, func(d *mail.Data) { d.InviterSide = "supplier" }), mail.ErrInvalidData},
		{"same sides", mail.KindPartnerInvitation, mail.LocaleFR,
			valid(mail.KindPartnerInvitation, func(d *mail.Data) { d.InviteeSide = "client" }), mail.ErrInvalidData},
		{"missing contract title", mail.KindContractShared, mail.LocaleDE,
			valid(mail.KindContractShared, func(d *mail.Data) { d.ContractTitle = "" }), mail.ErrInvalidData},
		{"unknown contract role", mail.KindContractShared, mail.LocaleDE,
			valid(mail.KindContractShared, func(d *mail.Data) { d.Role = "admin" }), mail.ErrInvalidData},
		{"unknown member role", mail.KindMemberInvitation, mail.LocaleDE,
			valid(mail.KindMemberInvitation, func(d *mail.Data) { d.Role = "watcher" }), mail.ErrInvalidData},
		{"missing organization", mail.KindCollaboratorActivation, mail.LocaleEN,
			valid(mail.KindCollaboratorActivation, func(d *mail.Data) { d.OrganizationName = "" }), mail.ErrInvalidData},
		{"missing accountant inviter", mail.KindAccountantInvitation, mail.LocaleEN,
			valid(mail.KindAccountantInvitation, func(d *mail.Data) { d.InviterName = "" }), mail.ErrInvalidData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := mail.Render(tt.kind, tt.locale, tt.data)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Render() error = %v, want %v (content %+v)", err, tt.wantErr, c)
			}
			if strings.Contains(err.Error(), "S3CRET") {
				t.Errorf("error %q leaks the link token", err)
			}
		})
	}
}

func TestParseLocale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explicit, accept string
		want                   mail.Locale
	}{
		{"nothing", "", "", mail.LocaleEN},
		{"explicit fr", "fr", "de", mail.LocaleFR},
		{"explicit region wins", "fr-FR", "de-DE,de;q=0.9", mail.LocaleFR},
		{"explicit upper case", "DE", "", mail.LocaleDE},
		{"explicit underscore", "de_CH", "", mail.LocaleDE},
		{"explicit unsupported falls to header", "es", "fr", mail.LocaleFR},
		{"explicit garbage falls to header", "%%%", "de", mail.LocaleDE},
		{"q-values order", "", "de-CH;q=0.9, fr;q=0.8", mail.LocaleDE},
		{"q-values not in order", "", "fr;q=0.5, de;q=0.7, en;q=0.6", mail.LocaleDE},
		{"unsupported first", "", "es-ES, it;q=0.9, fr;q=0.3", mail.LocaleFR},
		{"browser header", "", "en-US,en;q=0.9,fr;q=0.8", mail.LocaleEN},
		{"ties keep order", "", "fr;q=0.8, de;q=0.8", mail.LocaleFR},
		{"q=0 excluded", "", "fr;q=0, de;q=0.1", mail.LocaleDE},
		{"case-insensitive q", "", "fr;Q=0.2, de;q=0.1", mail.LocaleFR},
		{"spaces", "", "  de-AT ; q=1.0 ,fr;q=0.9", mail.LocaleDE},
		{"wildcard only", "", "*", mail.LocaleEN},
		{"unsupported only", "", "es, it;q=0.8", mail.LocaleEN},
		{"bad q ignored", "", "fr;q=abc, de;q=0.2", mail.LocaleDE},
		{"q out of range ignored", "", "fr;q=2, de;q=0.2", mail.LocaleDE},
		{"NaN ignored", "", "fr;q=NaN, de;q=0.2", mail.LocaleDE},
		{"garbage", "", ";;;,,,=q", mail.LocaleEN},
		{"too long", "", strings.Repeat("x", 2000) + ",fr", mail.LocaleEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mail.ParseLocale(tt.explicit, tt.accept); got != tt.want {
				t.Errorf("ParseLocale(%q, %q) = %q, want %q", tt.explicit, tt.accept, got, tt.want)
			}
		})
	}
}

func TestSupportedLocale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   mail.Locale
		wantOK bool
	}{
		{"en", mail.LocaleEN, true},
		{"EN-gb", mail.LocaleEN, true},
		{" fr ", mail.LocaleFR, true},
		{"fr-CA", mail.LocaleFR, true},
		{"de", mail.LocaleDE, true},
		{"", "", false},
		{"es", "", false},
		{"french", "", false},
		{"*", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := mail.SupportedLocale(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("SupportedLocale(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestMaskEmail(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"alice@example.com", "a***@example.com"},
		{"  bob@example.org ", "b***@example.org"},
		{"Alice Martin <alice@example.com>", "a***@example.com"},
		{"élodie@exemple.fr", "é***@exemple.fr"},
		{"x@y.z", "x***@y.z"},
		{"", "***"},
		{"garbage", "***"},
		{"@example.com", "***"},
		{"alice@", "***"},
		{"a@b@c", "***"},
		{"al ice@example.com", "***"},
		{"alice@exa mple.com", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := mail.MaskEmail(tt.in); got != tt.want {
				t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRenderFrenchTypography(t *testing.T) {
	t.Parallel()
	d := dataFor(mail.KindContractShared)
	c, err := mail.Render(mail.KindContractShared, mail.LocaleFR, d)
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	if want := "«\u00a0Maintenance 2026\u00a0»"; !strings.Contains(c.Subject, want) {
		t.Errorf("Subject = %q, want it to contain %q", c.Subject, want)
	}
	if want := "Voir le contrat\u00a0:\n"; !strings.Contains(c.Text, want) {
		t.Errorf("Text does not contain %q; got:\n%s", want, c.Text)
	}
}

func TestRenderSingleLineFields(t *testing.T) {
	t.Parallel()
	d := dataFor(mail.KindMemberInvitation)
	d.InviterName = "Alice\r\nBcc: victim@example.com"
	c, err := mail.Render(mail.KindMemberInvitation, mail.LocaleEN, d)
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	if want := "Alice Bcc: victim@example.com invites you"; !strings.HasPrefix(c.Subject, want) {
		t.Errorf("Subject = %q, want prefix %q", c.Subject, want)
	}
}

// The claim notice (issue 14): in each language it names the claiming
// organization and the invited email, and says how to revoke the
// invitation, with the link to the sender's "Invitations sent".
func TestRenderClaimNotice(t *testing.T) {
	const link = "https://app.partners.local/organizations/7e88/invitations/sent"
	d := mail.Data{OrganizationName: "Mallory <SARL>", Email: "samir@plomberie.fr", Link: link}
	for _, tc := range []struct {
		locale mail.Locale
		want   []string
	}{
		{mail.LocaleEN, []string{"Mallory <SARL> used the link of your partner invitation to samir@plomberie.fr",
			"revoke the invitation in your Invitations sent", "its link stops working at once", "because you sent this invitation"}},
		{mail.LocaleFR, []string{"Mallory <SARL> a utilisé le lien de votre invitation de partenaire envoyée à samir@plomberie.fr",
			"révoquez l'invitation dans vos Invitations envoyées", "son lien cesse aussitôt de fonctionner", "parce que vous avez envoyé cette invitation"}},
		{mail.LocaleDE, []string{"Mallory <SARL> hat den Link Ihrer Partnereinladung an samir@plomberie.fr verwendet",
			"widerrufen Sie die Einladung unter Gesendete Einladungen", "funktioniert dann sofort nicht mehr", "weil Sie diese Einladung gesendet haben"}},
	} {
		t.Run(string(tc.locale), func(t *testing.T) {
			c, err := mail.Render(mail.KindInvitationClaimed, tc.locale, d)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(c.Subject, "Mallory <SARL>") || !strings.Contains(c.Subject, "samir@plomberie.fr") {
				t.Errorf("Subject = %q; want the claiming organization and the invited email", c.Subject)
			}
			for _, w := range append(tc.want, link) {
				if !strings.Contains(c.Text, w) {
					t.Errorf("Text lacks %q:\n%s", w, c.Text)
				}
				if ew := html.EscapeString(w); !strings.Contains(c.HTML, ew) {
					t.Errorf("HTML lacks %q:\n%s", ew, c.HTML)
				}
			}
			if strings.Contains(c.HTML, "<SARL>") {
				t.Errorf("HTML shows the organization's name unescaped:\n%s", c.HTML)
			}
		})
	}
	// A forgotten invited email is left out, the sentence still reads.
	c, err := mail.Render(mail.KindInvitationClaimed, mail.LocaleEN, mail.Data{OrganizationName: "YDB", Link: link})
	if err != nil || !strings.Contains(c.Text, "YDB used the link of your partner invitation to attach it") {
		t.Fatalf("without the email: %v\n%s", err, c.Text)
	}
	if _, err := mail.Render(mail.KindInvitationClaimed, mail.LocaleEN, mail.Data{Link: link}); !errors.Is(err, mail.ErrInvalidData) {
		t.Fatalf("without the organization: err = %v; want ErrInvalidData", err)
	}
}

// The inviter hears back (issue 16): in each language the notice names the
// answering organization and the invited email, says what the answer
// means, and links where to look.
func TestRenderAnswerNotices(t *testing.T) {
	const link = "https://app.partners.local/organizations/7e88/partners/2f8b"
	d := mail.Data{OrganizationName: "Plomberie <Samir>", Email: "samir@plomberie.fr", Link: link}
	for _, tc := range []struct {
		kind   mail.Kind
		locale mail.Locale
		want   []string
	}{
		{mail.KindInvitationAccepted, mail.LocaleEN, []string{"Plomberie <Samir> accepted your partner invitation to samir@plomberie.fr", "you are partners from now on", "because you sent this invitation"}},
		{mail.KindInvitationAccepted, mail.LocaleFR, []string{"Plomberie <Samir> a accepté votre invitation de partenaire envoyée à samir@plomberie.fr", "vous êtes désormais partenaires", "parce que vous avez envoyé cette invitation"}},
		{mail.KindInvitationAccepted, mail.LocaleDE, []string{"Plomberie <Samir> hat Ihre Partnereinladung an samir@plomberie.fr angenommen", "Sie sind ab jetzt Partner", "weil Sie diese Einladung gesendet haben"}},
		{mail.KindInvitationDeclined, mail.LocaleEN, []string{"Plomberie <Samir> declined your partner invitation to samir@plomberie.fr", "No partnership was established", "invite them again later"}},
		{mail.KindInvitationDeclined, mail.LocaleFR, []string{"Plomberie <Samir> a refusé votre invitation de partenaire envoyée à samir@plomberie.fr", "Aucune mise en relation", "l'inviter à nouveau"}},
		{mail.KindInvitationDeclined, mail.LocaleDE, []string{"Plomberie <Samir> hat Ihre Partnereinladung an samir@plomberie.fr abgelehnt", "keine Verbindung", "erneut einladen"}},
	} {
		t.Run(string(tc.kind)+"/"+string(tc.locale), func(t *testing.T) {
			c, err := mail.Render(tc.kind, tc.locale, d)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(c.Subject, "Plomberie <Samir>") || !strings.Contains(c.Subject, "samir@plomberie.fr") {
				t.Errorf("Subject = %q; want the answering organization and the invited email", c.Subject)
			}
			for _, w := range append(tc.want, link) {
				if !strings.Contains(c.Text, w) {
					t.Errorf("Text lacks %q:\n%s", w, c.Text)
				}
				if ew := html.EscapeString(w); !strings.Contains(c.HTML, ew) {
					t.Errorf("HTML lacks %q:\n%s", ew, c.HTML)
				}
			}
			if strings.Contains(c.HTML, "<Samir>") {
				t.Errorf("HTML shows the organization's name unescaped:\n%s", c.HTML)
			}
		})
	}
	c, err := mail.Render(mail.KindInvitationDeclined, mail.LocaleEN, mail.Data{OrganizationName: "YDB", Link: link})
	if err != nil || !strings.Contains(c.Text, "YDB declined your partner invitation. No partnership") {
		t.Fatalf("without the email: %v\n%s", err, c.Text)
	}
	if _, err := mail.Render(mail.KindInvitationAccepted, mail.LocaleEN, mail.Data{Link: link}); !errors.Is(err, mail.ErrInvalidData) {
		t.Fatalf("without the organization: err = %v; want ErrInvalidData", err)
	}
}

// The partner invitation greets the contact the inviter named (seed 004),
// in each language, and nobody in particular otherwise.
func TestRenderPartnerInvitationGreetsTheContact(t *testing.T) {
	for _, tc := range []struct {
		locale          mail.Locale
		named, nameless string
	}{
		{mail.LocaleEN, "Hello Samir <Haddad>,", "Hello,"},
		{mail.LocaleFR, "Bonjour Samir <Haddad>,", "Bonjour,"},
		{mail.LocaleDE, "Guten Tag Samir <Haddad>,", "Guten Tag,"},
	} {
		t.Run(string(tc.locale), func(t *testing.T) {
			d := dataFor(mail.KindPartnerInvitation)
			d.RecipientName = "Samir <Haddad>"
			c, err := mail.Render(mail.KindPartnerInvitation, tc.locale, d)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(c.Text, tc.named) || !strings.Contains(c.HTML, html.EscapeString(tc.named)) {
				t.Errorf("the greeting lacks the contact's name %q:\n%s", tc.named, c.Text)
			}
			d.RecipientName = ""
			if c, err = mail.Render(mail.KindPartnerInvitation, tc.locale, d); err != nil || !strings.Contains(c.Text, tc.nameless) {
				t.Errorf("without a contact: %v; want %q:\n%s", err, tc.nameless, c.Text)
			}
		})
	}
}
