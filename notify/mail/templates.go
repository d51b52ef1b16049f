package mail

import (
	"fmt"
	texttemplate "text/template"
	"time"
)

// This file holds the wording. Snippets are text/template sources executed
// against a view; their output is plain text, which the shared layouts place
// in the text body as is and in the HTML body through html/template's
// escaping. A snippet that renders to blanks is left out, so a whole
// sentence can be made conditional with {{if}}.

// localeCommon holds the words shared by every kind in one locale.
type localeCommon struct {
	sides        map[string]string
	roles        map[string]string
	linkFallback string
	footer       string
	colon        string // typographic colon, " :" in French
	formatTime   func(time.Time) string
}

var common = map[Locale]localeCommon{
	LocaleEN: {
		sides: map[string]string{SideClient: "client", SideSubcontractor: "subcontractor"},
		roles: map[string]string{
			RoleRequester: "requester", RoleWatcher: "watcher",
			RoleAdmin: "administrator", RoleMember: "member",
		},
		linkFallback: "If the button does not work, copy this link into your browser:",
		footer:       "This is an automated message, please do not reply.",
		colon:        ":",
		formatTime: func(t time.Time) string {
			return fmt.Sprintf("%s %d, %d at %s UTC", monthsEN[t.Month()-1], t.Day(), t.Year(), t.Format("15:04"))
		},
	},
	LocaleFR: {
		sides: map[string]string{SideClient: "client", SideSubcontractor: "sous-traitant"},
		roles: map[string]string{
			RoleRequester: "demandeur", RoleWatcher: "observateur",
			RoleAdmin: "administrateur", RoleMember: "membre",
		},
		linkFallback: "Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur\u00a0:",
		footer:       "Ceci est un message automatique, merci de ne pas y répondre.",
		colon:        "\u00a0:",
		formatTime: func(t time.Time) string {
			day := fmt.Sprint(t.Day())
			if t.Day() == 1 {
				day = "1er"
			}
			return fmt.Sprintf("%s %s %d à %s UTC", day, monthsFR[t.Month()-1], t.Year(), t.Format("15:04"))
		},
	},
	LocaleDE: {
		sides: map[string]string{SideClient: "Kunde", SideSubcontractor: "Anbieter"},
		roles: map[string]string{
			RoleRequester: "Anfragender", RoleWatcher: "Beobachter",
			RoleAdmin: "Administrator", RoleMember: "Mitglied",
		},
		linkFallback: "Falls die Schaltfläche nicht funktioniert, kopieren Sie diesen Link in Ihren Browser:",
		footer:       "Dies ist eine automatisch erstellte Nachricht, bitte antworten Sie nicht darauf.",
		colon:        ":",
		formatTime: func(t time.Time) string {
			return fmt.Sprintf("%d. %s %d um %s Uhr UTC", t.Day(), monthsDE[t.Month()-1], t.Year(), t.Format("15:04"))
		},
	},
}

var (
	monthsEN = [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	monthsFR = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	monthsDE = [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
)

// kindText is the wording of one kind in one locale (template sources).
type kindText struct {
	Subject      string
	Greeting     string
	Paragraphs   []string
	MessageIntro string // shown above the personal message, when there is one
	ItemsIntro   string // shown above Items, when any renders
	Items        []string
	Action       string // call-to-action label; the link follows it
	Notes        []string
}

// compiledKind is a kindText with every snippet parsed.
type compiledKind struct {
	subject, greeting, messageIntro, itemsIntro, action *texttemplate.Template
	paragraphs, items, notes                            []*texttemplate.Template
}

const (
	ignoreEN = "If you were not expecting this invitation, you can ignore this email."
	ignoreFR = "Si vous n'attendiez pas cette invitation, vous pouvez ignorer cet e-mail."
	ignoreDE = "Falls Sie diese Einladung nicht erwartet haben, können Sie diese E-Mail ignorieren."

	expiresEN = "{{if .Expires}}This invitation expires on {{.Expires}}.{{end}}"
	expiresFR = "{{if .Expires}}Cette invitation expire le {{.Expires}}.{{end}}"
	expiresDE = "{{if .Expires}}Diese Einladung läuft am {{.Expires}} ab.{{end}}"

	sentItEN = "You receive this email because you sent this invitation."
	sentItFR = "Vous recevez cet e-mail parce que vous avez envoyé cette invitation."
	sentItDE = "Sie erhalten diese E-Mail, weil Sie diese Einladung gesendet haben."
)

var wording = map[Kind]map[Locale]kindText{
	KindPartnerInvitation: {
		LocaleEN: {
			Subject:      "{{.InviterName}} invites you to work together as their {{.InviteeSide}}",
			Greeting:     "Hello{{with .RecipientName}} {{.}}{{end}},",
			Paragraphs:   []string{"{{.InviterName}} ({{.InviterSide}}) invites you to join their partner network as their {{.InviteeSide}}."},
			MessageIntro: "Their personal message:",
			Action:       "Accept the invitation",
			Notes:        []string{expiresEN, ignoreEN},
		},
		LocaleFR: {
			Subject:      "{{.InviterName}} vous invite à collaborer en tant que {{.InviteeSide}}",
			Greeting:     "Bonjour{{with .RecipientName}} {{.}}{{end}},",
			Paragraphs:   []string{"{{.InviterName}} ({{.InviterSide}}) vous invite à rejoindre son réseau de partenaires en tant que {{.InviteeSide}}."},
			MessageIntro: "Son message personnel\u00a0:",
			Action:       "Accepter l'invitation",
			Notes:        []string{expiresFR, ignoreFR},
		},
		LocaleDE: {
			Subject:      "{{.InviterName}} lädt Sie ein, als {{.InviteeSide}} zusammenzuarbeiten",
			Greeting:     "Guten Tag{{with .RecipientName}} {{.}}{{end}},",
			Paragraphs:   []string{"{{.InviterName}} ({{.InviterSide}}) lädt Sie ein, dem Partnernetzwerk als {{.InviteeSide}} beizutreten."},
			MessageIntro: "Persönliche Nachricht:",
			Action:       "Einladung annehmen",
			Notes:        []string{expiresDE, ignoreDE},
		},
	},
	KindContractShared: {
		LocaleEN: {
			Subject:  "{{.OrganizationName}} shared the contract “{{.ContractTitle}}” with you",
			Greeting: "Hello{{with .RecipientName}} {{.}}{{end}},",
			Paragraphs: []string{
				"{{.OrganizationName}} shared the contract “{{.ContractTitle}}” with you on the client portal.",
				"{{with .Role}}Your role: {{.}}.{{end}}",
			},
			Action: "View the contract",
		},
		LocaleFR: {
			Subject:  "{{.OrganizationName}} a partagé le contrat «\u00a0{{.ContractTitle}}\u00a0» avec vous",
			Greeting: "Bonjour{{with .RecipientName}} {{.}}{{end}},",
			Paragraphs: []string{
				"{{.OrganizationName}} a partagé avec vous le contrat «\u00a0{{.ContractTitle}}\u00a0» sur le portail client.",
				"{{with .Role}}Votre rôle\u00a0: {{.}}.{{end}}",
			},
			Action: "Voir le contrat",
		},
		LocaleDE: {
			Subject:  "{{.OrganizationName}} hat den Vertrag „{{.ContractTitle}}“ mit Ihnen geteilt",
			Greeting: "Guten Tag{{with .RecipientName}} {{.}}{{end}},",
			Paragraphs: []string{
				"{{.OrganizationName}} hat den Vertrag „{{.ContractTitle}}“ im Kundenportal mit Ihnen geteilt.",
				"{{with .Role}}Ihre Rolle: {{.}}.{{end}}",
			},
			Action: "Vertrag ansehen",
		},
	},
	KindAccountantInvitation: {
		LocaleEN: {
			Subject:      "{{.InviterName}} invites you to access {{.OrganizationName}} as their accountant",
			Greeting:     "Hello,",
			Paragraphs:   []string{"{{.InviterName}} invites you to access the accounting data of {{.OrganizationName}} as their accountant."},
			MessageIntro: "Their personal message:",
			Action:       "Accept the invitation",
			Notes:        []string{expiresEN, ignoreEN},
		},
		LocaleFR: {
			Subject:      "{{.InviterName}} vous invite à accéder à {{.OrganizationName}} en tant qu'expert-comptable",
			Greeting:     "Bonjour,",
			Paragraphs:   []string{"{{.InviterName}} vous invite à accéder aux données comptables de {{.OrganizationName}} en tant qu'expert-comptable."},
			MessageIntro: "Son message personnel\u00a0:",
			Action:       "Accepter l'invitation",
			Notes:        []string{expiresFR, ignoreFR},
		},
		LocaleDE: {
			Subject:      "{{.InviterName}} lädt Sie als Buchhalter für {{.OrganizationName}} ein",
			Greeting:     "Guten Tag,",
			Paragraphs:   []string{"{{.InviterName}} lädt Sie ein, als Buchhalter auf die Buchhaltungsdaten von {{.OrganizationName}} zuzugreifen."},
			MessageIntro: "Persönliche Nachricht:",
			Action:       "Einladung annehmen",
			Notes:        []string{expiresDE, ignoreDE},
		},
	},
	KindMemberInvitation: {
		LocaleEN: {
			Subject:  "{{.InviterName}} invites you to join {{.OrganizationName}}",
			Greeting: "Hello,",
			Paragraphs: []string{
				"{{.InviterName}} invites you to join the team of {{.OrganizationName}}.",
				"{{with .Role}}Your role: {{.}}.{{end}}",
			},
			Action: "Join the team",
			Notes:  []string{expiresEN, ignoreEN},
		},
		LocaleFR: {
			Subject:  "{{.InviterName}} vous invite à rejoindre {{.OrganizationName}}",
			Greeting: "Bonjour,",
			Paragraphs: []string{
				"{{.InviterName}} vous invite à rejoindre l'équipe de {{.OrganizationName}}.",
				"{{with .Role}}Votre rôle\u00a0: {{.}}.{{end}}",
			},
			Action: "Rejoindre l'équipe",
			Notes:  []string{expiresFR, ignoreFR},
		},
		LocaleDE: {
			Subject:  "{{.InviterName}} lädt Sie ein, {{.OrganizationName}} beizutreten",
			Greeting: "Guten Tag,",
			Paragraphs: []string{
				"{{.InviterName}} lädt Sie ein, dem Team von {{.OrganizationName}} beizutreten.",
				"{{with .Role}}Ihre Rolle: {{.}}.{{end}}",
			},
			Action: "Team beitreten",
			Notes:  []string{expiresDE, ignoreDE},
		},
	},
	KindCollaboratorActivation: {
		LocaleEN: {
			Subject:    "Activate your {{.OrganizationName}} account",
			Greeting:   "Hello{{with .FirstName}} {{.}}{{end}},",
			Paragraphs: []string{"An account has been created for you at {{.OrganizationName}}. Activate it to get started."},
			ItemsIntro: "Your permissions:",
			Items: []string{
				"{{if .CanPurchase}}You can place orders.{{else}}You cannot place orders.{{end}}",
				"{{if .CanSeeAllOrders}}You can see all orders of {{.OrganizationName}}.{{else}}You can see your own orders only.{{end}}",
			},
			Action: "Activate my account",
		},
		LocaleFR: {
			Subject:    "Activez votre compte {{.OrganizationName}}",
			Greeting:   "Bonjour{{with .FirstName}} {{.}}{{end}},",
			Paragraphs: []string{"Un compte a été créé pour vous chez {{.OrganizationName}}. Activez-le pour commencer."},
			ItemsIntro: "Vos droits\u00a0:",
			Items: []string{
				"{{if .CanPurchase}}Vous pouvez passer des commandes.{{else}}Vous ne pouvez pas passer de commandes.{{end}}",
				"{{if .CanSeeAllOrders}}Vous voyez toutes les commandes de {{.OrganizationName}}.{{else}}Vous ne voyez que vos propres commandes.{{end}}",
			},
			Action: "Activer mon compte",
		},
		LocaleDE: {
			Subject:    "Aktivieren Sie Ihr Konto bei {{.OrganizationName}}",
			Greeting:   "Hallo{{with .FirstName}} {{.}}{{end}},",
			Paragraphs: []string{"Für Sie wurde bei {{.OrganizationName}} ein Konto angelegt. Aktivieren Sie es, um loszulegen."},
			ItemsIntro: "Ihre Berechtigungen:",
			Items: []string{
				"{{if .CanPurchase}}Sie können Bestellungen aufgeben.{{else}}Sie können keine Bestellungen aufgeben.{{end}}",
				"{{if .CanSeeAllOrders}}Sie sehen alle Bestellungen von {{.OrganizationName}}.{{else}}Sie sehen nur Ihre eigenen Bestellungen.{{end}}",
			},
			Action: "Konto aktivieren",
		},
	},
	KindInvitationClaimed: {
		LocaleEN: {
			Subject:  "{{.OrganizationName}} claimed your partner invitation{{with .Email}} to {{.}}{{end}}",
			Greeting: "Hello,",
			Paragraphs: []string{
				"{{.OrganizationName}} used the link of your partner invitation{{with .Email}} to {{.}}{{end}} to attach it to their organization: they may now accept it.",
				"If you do not know {{.OrganizationName}}, or the link was not meant for them, revoke the invitation in your Invitations sent: its link stops working at once, and you may invite again.",
			},
			Action: "Review your invitations sent",
			Notes:  []string{sentItEN},
		},
		LocaleFR: {
			Subject:  "{{.OrganizationName}} a réclamé votre invitation de partenaire{{with .Email}} envoyée à {{.}}{{end}}",
			Greeting: "Bonjour,",
			Paragraphs: []string{
				"{{.OrganizationName}} a utilisé le lien de votre invitation de partenaire{{with .Email}} envoyée à {{.}}{{end}} pour la rattacher à son organisation : elle peut maintenant l'accepter.",
				"Si vous ne connaissez pas {{.OrganizationName}}, ou si le lien ne lui était pas destiné, révoquez l'invitation dans vos Invitations envoyées : son lien cesse aussitôt de fonctionner, et vous pourrez inviter à nouveau.",
			},
			Action: "Voir mes invitations envoyées",
			Notes:  []string{sentItFR},
		},
		LocaleDE: {
			Subject:  "{{.OrganizationName}} hat Ihre Partnereinladung{{with .Email}} an {{.}}{{end}} übernommen",
			Greeting: "Guten Tag,",
			Paragraphs: []string{
				"{{.OrganizationName}} hat den Link Ihrer Partnereinladung{{with .Email}} an {{.}}{{end}} verwendet, um sie der eigenen Organisation zuzuordnen: Sie kann die Einladung jetzt annehmen.",
				"Falls Sie {{.OrganizationName}} nicht kennen oder der Link nicht für sie bestimmt war, widerrufen Sie die Einladung unter Gesendete Einladungen: Ihr Link funktioniert dann sofort nicht mehr, und Sie können erneut einladen.",
			},
			Action: "Gesendete Einladungen ansehen",
			Notes:  []string{sentItDE},
		},
	},
	KindInvitationAccepted: {
		LocaleEN: {
			Subject:    "{{.OrganizationName}} accepted your partner invitation{{with .Email}} to {{.}}{{end}}",
			Greeting:   "Hello,",
			Paragraphs: []string{"{{.OrganizationName}} accepted your partner invitation{{with .Email}} to {{.}}{{end}}: you are partners from now on, and {{.OrganizationName}} is in your panel."},
			Action:     "View your partner",
			Notes:      []string{sentItEN},
		},
		LocaleFR: {
			Subject:    "{{.OrganizationName}} a accepté votre invitation de partenaire{{with .Email}} envoyée à {{.}}{{end}}",
			Greeting:   "Bonjour,",
			Paragraphs: []string{"{{.OrganizationName}} a accepté votre invitation de partenaire{{with .Email}} envoyée à {{.}}{{end}}\u00a0: vous êtes désormais partenaires, et {{.OrganizationName}} figure dans votre panel."},
			Action:     "Voir le partenaire",
			Notes:      []string{sentItFR},
		},
		LocaleDE: {
			Subject:    "{{.OrganizationName}} hat Ihre Partnereinladung{{with .Email}} an {{.}}{{end}} angenommen",
			Greeting:   "Guten Tag,",
			Paragraphs: []string{"{{.OrganizationName}} hat Ihre Partnereinladung{{with .Email}} an {{.}}{{end}} angenommen: Sie sind ab jetzt Partner, und {{.OrganizationName}} steht in Ihrer Partnerliste."},
			Action:     "Partner ansehen",
			Notes:      []string{sentItDE},
		},
	},
	KindInvitationDeclined: {
		LocaleEN: {
			Subject:    "{{.OrganizationName}} declined your partner invitation{{with .Email}} to {{.}}{{end}}",
			Greeting:   "Hello,",
			Paragraphs: []string{"{{.OrganizationName}} declined your partner invitation{{with .Email}} to {{.}}{{end}}. No partnership was established; you may invite them again later."},
			Action:     "Review your invitations sent",
			Notes:      []string{sentItEN},
		},
		LocaleFR: {
			Subject:    "{{.OrganizationName}} a refusé votre invitation de partenaire{{with .Email}} envoyée à {{.}}{{end}}",
			Greeting:   "Bonjour,",
			Paragraphs: []string{"{{.OrganizationName}} a refusé votre invitation de partenaire{{with .Email}} envoyée à {{.}}{{end}}. Aucune mise en relation n'a été établie\u00a0; vous pourrez l'inviter à nouveau plus tard."},
			Action:     "Voir mes invitations envoyées",
			Notes:      []string{sentItFR},
		},
		LocaleDE: {
			Subject:    "{{.OrganizationName}} hat Ihre Partnereinladung{{with .Email}} an {{.}}{{end}} abgelehnt",
			Greeting:   "Guten Tag,",
			Paragraphs: []string{"{{.OrganizationName}} hat Ihre Partnereinladung{{with .Email}} an {{.}}{{end}} abgelehnt. Es wurde keine Verbindung hergestellt; Sie können später erneut einladen."},
			Action:     "Gesendete Einladungen ansehen",
			Notes:      []string{sentItDE},
		},
	},
}

// catalog is wording compiled once at start-up; a malformed snippet is a
// programming error and panics at init (and in every test run).
var catalog = compileCatalog(wording)

func compileCatalog(w map[Kind]map[Locale]kindText) map[Kind]map[Locale]compiledKind {
	out := make(map[Kind]map[Locale]compiledKind, len(w))
	for kind, byLocale := range w {
		out[kind] = make(map[Locale]compiledKind, len(byLocale))
		for locale, kt := range byLocale {
			name := string(kind) + "/" + string(locale)
			one := func(part, src string) *texttemplate.Template {
				if src == "" {
					return nil
				}
				return texttemplate.Must(texttemplate.New(name + "/" + part).Option("missingkey=error").Parse(src))
			}
			many := func(part string, srcs []string) []*texttemplate.Template {
				ts := make([]*texttemplate.Template, 0, len(srcs))
				for i, src := range srcs {
					ts = append(ts, one(fmt.Sprintf("%s[%d]", part, i), src))
				}
				return ts
			}
			out[kind][locale] = compiledKind{
				subject:      one("subject", kt.Subject),
				greeting:     one("greeting", kt.Greeting),
				messageIntro: one("messageIntro", kt.MessageIntro),
				itemsIntro:   one("itemsIntro", kt.ItemsIntro),
				action:       one("action", kt.Action),
				paragraphs:   many("paragraphs", kt.Paragraphs),
				items:        many("items", kt.Items),
				notes:        many("notes", kt.Notes),
			}
		}
	}
	return out
}
