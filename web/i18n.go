package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"partners/notify/mail"
)

// The pages speak fr, en and de: the language cookie the switcher sets,
// else Accept-Language, else English. Status labels are the seeds' words.

const langCookie = "lang"

func langOf(c *gin.Context) string {
	explicit := ""
	if ck, err := c.Request.Cookie(langCookie); err == nil {
		explicit = ck.Value
	}
	return string(mail.ParseLocale(explicit, c.GetHeader("Accept-Language")))
}

// switchLang serves the switcher's links (?lang=xx on any page): it keeps
// the choice in a cookie and redirects to the same page without the
// parameter. Anything but the page's own path is never a target.
func (w *Web) switchLang(c *gin.Context) {
	l, ok := mail.SupportedLocale(c.Query("lang"))
	if c.Request.Method != http.MethodGet || c.Query("lang") == "" {
		return
	}
	if ok {
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteLaxMode})
	}
	q := c.Request.URL.Query()
	q.Del("lang")
	target := c.Request.URL.Path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	c.Redirect(http.StatusSeeOther, target)
	c.Abort()
}

// translate returns the text of key in lang, formatted with args; a key
// missing in lang falls back to English, then to the key itself (a test
// catches those).
func translate(lang, key string, args ...any) string {
	s, ok := messages[lang][key]
	if !ok {
		if s, ok = messages["en"][key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

var messages = map[string]map[string]string{
	"en": {
		"app.name": "Partners", "nav.skip": "Skip to content", "nav.signin": "Sign in", "nav.signout": "Sign out",
		"nav.signout.everywhere": "Sign out everywhere", "nav.language": "Language", "nav.switch": "Switch",
		"nav.organization": "Organization", "nav.main": "Main menu", "nav.invite": "Invite",
		"panel.client": "Subcontractors", "panel.subcontractor": "Clients",
		"invite.client": "Invite a subcontractor", "invite.subcontractor": "Invite a client",
		"tab.sent": "Invitations sent", "tab.received": "My invitations", "badge.pending": "%d pending",
		"status.sent": "Sent", "status.accepted": "Accepted", "status.declined": "Declined", "status.revoked": "Revoked", "status.expired": "Expired",
		"side.client": "client", "side.subcontractor": "subcontractor",
		"role.owner": "owner", "role.admin": "admin", "role.member": "member", "role.accountant": "accountant", "role.collaborator": "collaborator",
		"home.title": "Your partner network", "home.intro": "Invite your clients and subcontractors, and find them in your panels.",
		"signin.title": "Sign in", "signin.oidc": "Sign in with your identity provider", "signin.dev": "Development sign-in",
		"signin.dev.note": "Development mode only, on this machine: no password, the name and email you type are taken as verified.",
		"signin.none":     "No sign-in is configured (PARTNERS_OIDC_ISSUER).",
		"field.name":      "Name", "field.email": "Email", "field.company": "Company", "field.phone": "Phone", "field.message": "Personal message",
		"field.orgname": "Organization name", "field.side": "Side", "field.siret": "SIRET (optional)", "field.search": "Search partners",
		"field.organization": "Answer as", "action.search": "Search", "action.signin": "Sign in", "action.create": "Create the organization",
		"action.accept": "Accept", "action.decline": "Decline", "action.claim": "Add to my invitations", "action.resend": "Resend", "action.revoke": "Revoke",
		"action.send": "Send the invitation", "action.next": "Next page", "action.first": "First page", "action.close": "Close",
		"action.activate": "Activate my account", "action.join": "Join the organization",
		"welcome.title": "Welcome", "welcome.pending": "Invitations waiting for you", "welcome.none": "No invitation is waiting for your email.",
		"welcome.create": "Create your organization", "welcome.create.side": "Invited as %s: create your organization on that side to answer.",
		"orgs.title":      "Your organizations",
		"landing.partner": "%s (%s) invites you to work together as %s.", "landing.member": "%s invites you to join %s as %s.",
		"landing.accountant": "%s gives you accountant access to %s.", "landing.collaborator": "%s created a collaborator account for you at %s.",
		"landing.expires": "Valid until %s.", "landing.status": "Status: %s", "landing.signin": "Sign in to answer.",
		"landing.invalid": "This link is not valid (anymore). Ask the sender for a new one.",
		"landing.closed":  "This invitation can no longer be answered.",
		"landing.noorg":   "You have no organization on the %s side yet: create it to answer.",
		"sent.email":      "Email", "sent.contact": "Contact", "sent.status": "Status", "sent.sent": "Sent on", "sent.partner": "Partner",
		"sent.claimed": "Claimed by", "sent.actions": "Actions", "sent.none": "No invitation sent yet.",
		"received.from": "From", "received.none": "No pending invitation.", "received.message": "Message",
		"panel.none": "No partner yet.", "panel.since": "Partner since", "panel.details": "Details", "panel.contacts": "Contacts",
		"panel.name": "Name", "panel.siret": "SIRET", "panel.side": "Side",
		"flash.sent": "Invitation sent. You can also pass this link on: %s", "flash.accepted": "You are now connected with %s.",
		"flash.declined": "Invitation declined.", "flash.claimed": "The invitation is now in your invitations.",
		"flash.revoked": "Invitation revoked.", "flash.resent": "Invitation sent again. New link: %s", "flash.created": "Organization created.",
		"flash.joined": "You joined %s.",
		"error.title":  "Something went wrong", "error.csrf": "This form has expired. Go back, reload the page and try again.",
		"error.notfound": "This page does not exist.", "error.signin": "Sign-in failed. Try again.",
		"error.internal": "Something went wrong on our side. Try again later.", "error.forbidden": "You may not do this.",
	},
	"fr": {
		"app.name": "Partenaires", "nav.skip": "Aller au contenu", "nav.signin": "Se connecter", "nav.signout": "Se déconnecter",
		"nav.signout.everywhere": "Se déconnecter partout", "nav.language": "Langue", "nav.switch": "Changer",
		"nav.organization": "Entreprise", "nav.main": "Menu principal", "nav.invite": "Inviter",
		"panel.client": "Sous-traitants", "panel.subcontractor": "Clients",
		"invite.client": "Inviter un sous-traitant", "invite.subcontractor": "Inviter un client",
		"tab.sent": "Invitations envoyées", "tab.received": "Mes invitations", "badge.pending": "%d en attente",
		"status.sent": "Envoyée", "status.accepted": "Validé", "status.declined": "Refusée", "status.revoked": "Retirée", "status.expired": "Expirée",
		"side.client": "client", "side.subcontractor": "sous-traitant",
		"role.owner": "propriétaire", "role.admin": "administrateur", "role.member": "membre", "role.accountant": "comptable", "role.collaborator": "collaborateur",
		"home.title": "Votre réseau de partenaires", "home.intro": "Invitez vos clients et sous-traitants et retrouvez-les dans vos panels.",
		"signin.title": "Connexion", "signin.oidc": "Se connecter avec votre fournisseur d'identité", "signin.dev": "Connexion de développement",
		"signin.dev.note": "Mode développement uniquement, sur cette machine : pas de mot de passe, le nom et l'email saisis sont tenus pour vérifiés.",
		"signin.none":     "Aucune connexion n'est configurée (PARTNERS_OIDC_ISSUER).",
		"field.name":      "Nom", "field.email": "Email", "field.company": "Entreprise", "field.phone": "Téléphone", "field.message": "Message personnel",
		"field.orgname": "Nom de l'entreprise", "field.side": "Côté", "field.siret": "SIRET (facultatif)", "field.search": "Rechercher un partenaire",
		"field.organization": "Répondre au nom de", "action.search": "Rechercher", "action.signin": "Se connecter", "action.create": "Créer l'entreprise",
		"action.accept": "Accepter", "action.decline": "Refuser", "action.claim": "Ajouter à mes invitations", "action.resend": "Renvoyer", "action.revoke": "Retirer",
		"action.send": "Envoyer l'invitation", "action.next": "Page suivante", "action.first": "Première page", "action.close": "Fermer",
		"action.activate": "Activer mon compte", "action.join": "Rejoindre l'entreprise",
		"welcome.title": "Bienvenue", "welcome.pending": "Invitations qui vous attendent", "welcome.none": "Aucune invitation n'attend votre email.",
		"welcome.create": "Créez votre entreprise", "welcome.create.side": "Invité comme %s : créez votre entreprise de ce côté pour répondre.",
		"orgs.title":      "Vos entreprises",
		"landing.partner": "%s (%s) vous invite à travailler ensemble en tant que %s.", "landing.member": "%s vous invite à rejoindre %s comme %s.",
		"landing.accountant": "%s vous donne un accès comptable à %s.", "landing.collaborator": "%s vous a créé un compte collaborateur chez %s.",
		"landing.expires": "Valable jusqu'au %s.", "landing.status": "Statut : %s", "landing.signin": "Connectez-vous pour répondre.",
		"landing.invalid": "Ce lien n'est pas (plus) valide. Demandez-en un nouveau à l'expéditeur.",
		"landing.closed":  "Cette invitation ne peut plus recevoir de réponse.",
		"landing.noorg":   "Vous n'avez pas encore d'entreprise côté %s : créez-la pour répondre.",
		"sent.email":      "Email", "sent.contact": "Contact", "sent.status": "Statut", "sent.sent": "Envoyée le", "sent.partner": "Partenaire",
		"sent.claimed": "Réclamée par", "sent.actions": "Actions", "sent.none": "Aucune invitation envoyée.",
		"received.from": "De", "received.none": "Aucune invitation en attente.", "received.message": "Message",
		"panel.none": "Aucun partenaire pour l'instant.", "panel.since": "Partenaire depuis", "panel.details": "Informations", "panel.contacts": "Contacts",
		"panel.name": "Nom", "panel.siret": "SIRET", "panel.side": "Côté",
		"flash.sent": "Invitation envoyée. Vous pouvez aussi transmettre ce lien : %s", "flash.accepted": "Vous êtes dorénavant en relation avec %s.",
		"flash.declined": "Invitation refusée.", "flash.claimed": "L'invitation est maintenant dans vos invitations.",
		"flash.revoked": "Invitation retirée.", "flash.resent": "Invitation renvoyée. Nouveau lien : %s", "flash.created": "Entreprise créée.",
		"flash.joined": "Vous avez rejoint %s.",
		"error.title":  "Un problème est survenu", "error.csrf": "Ce formulaire a expiré. Revenez en arrière, rechargez la page et réessayez.",
		"error.notfound": "Cette page n'existe pas.", "error.signin": "La connexion a échoué. Réessayez.",
		"error.internal": "Un problème est survenu de notre côté. Réessayez plus tard.", "error.forbidden": "Vous ne pouvez pas faire cela.",
	},
	"de": {
		"app.name": "Partner", "nav.skip": "Zum Inhalt springen", "nav.signin": "Anmelden", "nav.signout": "Abmelden",
		"nav.signout.everywhere": "Überall abmelden", "nav.language": "Sprache", "nav.switch": "Wechseln",
		"nav.organization": "Organisation", "nav.main": "Hauptmenü", "nav.invite": "Einladen",
		"panel.client": "Anbieter", "panel.subcontractor": "Kunden",
		"invite.client": "Anbieter einladen", "invite.subcontractor": "Kunden einladen",
		"tab.sent": "Einladungen gesendet", "tab.received": "Meine Einladungen", "badge.pending": "%d offen",
		"status.sent": "Gesendet", "status.accepted": "Angenommen", "status.declined": "Abgelehnt", "status.revoked": "Zurückgezogen", "status.expired": "Abgelaufen",
		"side.client": "Kunde", "side.subcontractor": "Anbieter",
		"role.owner": "Inhaber", "role.admin": "Administrator", "role.member": "Mitglied", "role.accountant": "Buchhalter", "role.collaborator": "Mitarbeiter",
		"home.title": "Ihr Partnernetzwerk", "home.intro": "Laden Sie Ihre Kunden und Anbieter ein und finden Sie sie in Ihren Listen.",
		"signin.title": "Anmelden", "signin.oidc": "Mit Ihrem Identitätsanbieter anmelden", "signin.dev": "Entwicklungsanmeldung",
		"signin.dev.note": "Nur im Entwicklungsmodus auf diesem Rechner: kein Passwort, Name und E-Mail gelten als bestätigt.",
		"signin.none":     "Keine Anmeldung konfiguriert (PARTNERS_OIDC_ISSUER).",
		"field.name":      "Name", "field.email": "E-Mail", "field.company": "Firma", "field.phone": "Telefon", "field.message": "Persönliche Nachricht",
		"field.orgname": "Name der Organisation", "field.side": "Seite", "field.siret": "SIRET (optional)", "field.search": "Partner suchen",
		"field.organization": "Antworten als", "action.search": "Suchen", "action.signin": "Anmelden", "action.create": "Organisation anlegen",
		"action.accept": "Akzeptieren", "action.decline": "Ablehnen", "action.claim": "Zu meinen Einladungen", "action.resend": "Erneut senden", "action.revoke": "Zurückziehen",
		"action.send": "Einladung senden", "action.next": "Nächste Seite", "action.first": "Erste Seite", "action.close": "Schließen",
		"action.activate": "Konto aktivieren", "action.join": "Organisation beitreten",
		"welcome.title": "Willkommen", "welcome.pending": "Einladungen für Sie", "welcome.none": "Keine Einladung für Ihre E-Mail.",
		"welcome.create": "Legen Sie Ihre Organisation an", "welcome.create.side": "Eingeladen als %s: legen Sie Ihre Organisation auf dieser Seite an, um zu antworten.",
		"orgs.title":      "Ihre Organisationen",
		"landing.partner": "%s (%s) lädt Sie zur Zusammenarbeit als %s ein.", "landing.member": "%s lädt Sie ein, %s als %s beizutreten.",
		"landing.accountant": "%s gibt Ihnen Buchhalterzugang zu %s.", "landing.collaborator": "%s hat für Sie ein Mitarbeiterkonto bei %s angelegt.",
		"landing.expires": "Gültig bis %s.", "landing.status": "Status: %s", "landing.signin": "Melden Sie sich an, um zu antworten.",
		"landing.invalid": "Dieser Link ist nicht (mehr) gültig. Bitten Sie den Absender um einen neuen.",
		"landing.closed":  "Diese Einladung kann nicht mehr beantwortet werden.",
		"landing.noorg":   "Sie haben noch keine Organisation auf der Seite %s: legen Sie sie an, um zu antworten.",
		"sent.email":      "E-Mail", "sent.contact": "Kontakt", "sent.status": "Status", "sent.sent": "Gesendet am", "sent.partner": "Partner",
		"sent.claimed": "Beansprucht von", "sent.actions": "Aktionen", "sent.none": "Noch keine Einladung gesendet.",
		"received.from": "Von", "received.none": "Keine offene Einladung.", "received.message": "Nachricht",
		"panel.none": "Noch kein Partner.", "panel.since": "Partner seit", "panel.details": "Infos", "panel.contacts": "Kontakte",
		"panel.name": "Name", "panel.siret": "SIRET", "panel.side": "Seite",
		"flash.sent": "Einladung gesendet. Sie können diesen Link auch weitergeben: %s", "flash.accepted": "Sie sind jetzt mit %s verbunden.",
		"flash.declined": "Einladung abgelehnt.", "flash.claimed": "Die Einladung ist jetzt in Ihren Einladungen.",
		"flash.revoked": "Einladung zurückgezogen.", "flash.resent": "Einladung erneut gesendet. Neuer Link: %s", "flash.created": "Organisation angelegt.",
		"flash.joined": "Sie sind %s beigetreten.",
		"error.title":  "Etwas ist schiefgelaufen", "error.csrf": "Dieses Formular ist abgelaufen. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.",
		"error.notfound": "Diese Seite gibt es nicht.", "error.signin": "Die Anmeldung ist fehlgeschlagen. Versuchen Sie es erneut.",
		"error.internal": "Bei uns ist etwas schiefgelaufen. Versuchen Sie es später erneut.", "error.forbidden": "Das dürfen Sie nicht.",
	},
}
