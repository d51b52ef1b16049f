// Package notify sends the emails that events ask for. A Watermill handler,
// fed by the outbox through watermill-sql, turns each event into queued
// emails (one row per event and recipient, so a redelivery queues nothing
// new); a sender sends them outside any transaction, with a stable
// Message-ID, and records each as sent. Nothing personal is queued: the
// sender reopens the event to build the email, so a forgotten person's
// pending emails are dropped.
//
// It must never decide business rules nor change events.
package notify

import (
	"sync"

	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

// SecretPlaceholder stands in a link for the token the event's pending
// secret holds; the sender substitutes it.
const SecretPlaceholder = "{secret}"

// Mail is one email an event asks for.
type Mail struct {
	// Recipient names the recipient within the event ("invitee",
	// "requester", "watcher:<portal user id>"...): with the event id it
	// makes the stable Message-ID.
	Recipient string
	// To is the address, as personal data; a forgotten one is not sent.
	To     domain.Personal
	Kind   mail.Kind
	Locale mail.Locale
	// Data fills the template. Its Link may hold SecretPlaceholder.
	Data mail.Data
}

// Rule lists the emails an event asks for. It must be pure and
// deterministic: it runs when the emails are queued and again when each is
// sent. Everything an email shows must be in the event.
type Rule func(ev *eventstore.Event, publicURL string) []Mail

var (
	rulesMu sync.RWMutex
	rules   = map[string]Rule{}
)

// Register sets the rule of an event type; called from init.
func Register(eventType string, r Rule) {
	rulesMu.Lock()
	defer rulesMu.Unlock()
	if _, dup := rules[eventType]; dup {
		panic("notify: rule registered twice for " + eventType)
	}
	rules[eventType] = r
}

func ruleFor(eventType string) Rule {
	rulesMu.RLock()
	defer rulesMu.RUnlock()
	return rules[eventType]
}

// LocaleOf reads a stored locale, English when unknown.
func LocaleOf(s string) mail.Locale {
	if l, ok := mail.SupportedLocale(s); ok {
		return l
	}
	return mail.LocaleEN
}
