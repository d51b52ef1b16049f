package notify

import (
	"net/url"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

// The client portal's email: "a contract is shared with you", to the
// requester when they become it and to each watcher when they are added.
// The recipient names ("requester", "watcher:<portal user id>") are unique
// within an event, so each person gets one email per event however often
// the event is delivered.

func init() {
	Register("ContractShown", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.ContractShown)
		out := []Mail{contractShared(base, e.OrganizationID, e.OrganizationName, e.ContractID, e.Title, e.Locale,
			e.Requester, mail.RoleRequester, "requester")}
		for _, w := range e.Watchers {
			out = append(out, contractShared(base, e.OrganizationID, e.OrganizationName, e.ContractID, e.Title, e.Locale,
				w, mail.RoleWatcher, "watcher:"+w.PortalUserID.String()))
		}
		return out
	})
	Register("RequesterChanged", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.RequesterChanged)
		return []Mail{contractShared(base, e.OrganizationID, e.OrganizationName, e.ContractID, e.Title, e.Locale,
			e.Requester, mail.RoleRequester, "requester")}
	})
	Register("WatcherAdded", func(ev *eventstore.Event, base string) []Mail {
		e := ev.Data.(domain.WatcherAdded)
		return []Mail{contractShared(base, e.OrganizationID, e.OrganizationName, e.ContractID, e.Title, e.Locale,
			e.Watcher, mail.RoleWatcher, "watcher:"+e.Watcher.PortalUserID.String())}
	})
}

// ContractLink is where a portal user opens a shared contract: their
// Contracts page in the organization's client portal.
func ContractLink(base string, org uuid.UUID, contract domain.ContractID) string {
	return base + "/portal/" + org.String() + "/contracts/" + url.PathEscape(contract.String())
}

func contractShared(base string, org uuid.UUID, orgName string, contract domain.ContractID, title, locale string,
	to domain.PortalRecipient, role, recipient string) Mail {
	name := to.Name.Value
	if to.Name.IsForgotten() {
		name = ""
	}
	return Mail{
		Recipient: recipient,
		To:        to.Email,
		Kind:      mail.KindContractShared,
		Locale:    LocaleOf(locale),
		Data: mail.Data{OrganizationName: orgName, RecipientName: name, ContractTitle: title, Role: role,
			Link: ContractLink(base, org, contract)},
	}
}
