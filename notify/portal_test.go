package notify

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

func portalRecipient(email, name, company string) domain.PortalRecipient {
	ref := domain.PersonRef("ref:" + email)
	return domain.PortalRecipient{PortalUserID: uuid.New(), Email: domain.PersonalOf(ref, email), Name: domain.PersonalOf(ref, name), Company: company}
}

func TestContractSharedRules(t *testing.T) {
	t.Parallel()
	const base = "https://app.partners.test"
	org := uuid.New()
	contract := domain.MustParseContractID("C-2026:42")
	link := base + "/portal/" + org.String() + "/contracts/C-2026:42"
	anna := portalRecipient("anna@client.fr", "Anna Klein", "Acme SA")
	emma := portalRecipient("emma@client.fr", "Emma Petit", "Acme SA")
	bruno := portalRecipient("bruno@client.fr", "Bruno Roy", "Acme SA")
	forgotten := domain.PortalRecipient{PortalUserID: uuid.New(), Email: domain.ForgottenOf("ref:x"), Name: domain.ForgottenOf("ref:x")}
	mailTo := func(recipient string, to domain.PortalRecipient, role string, loc mail.Locale, title string) Mail {
		name := to.Name.Value
		if to.Name.IsForgotten() {
			name = ""
		}
		return Mail{Recipient: recipient, To: to.Email, Kind: mail.KindContractShared, Locale: loc,
			Data: mail.Data{OrganizationName: "Acme Travaux", RecipientName: name, ContractTitle: title, Role: role, Link: link}}
	}
	for _, tc := range []struct {
		name  string
		event domain.Event
		want  []Mail
	}{
		{"ContractShown: the requester and every watcher", domain.ContractShown{OrganizationID: org, OrganizationName: "Acme Travaux",
			ContractID: contract, Title: "Maintenance 2026", Requester: anna, Watchers: []domain.PortalRecipient{emma, bruno}, Locale: "fr"},
			[]Mail{mailTo("requester", anna, "requester", mail.LocaleFR, "Maintenance 2026"),
				mailTo("watcher:"+emma.PortalUserID.String(), emma, "watcher", mail.LocaleFR, "Maintenance 2026"),
				mailTo("watcher:"+bruno.PortalUserID.String(), bruno, "watcher", mail.LocaleFR, "Maintenance 2026")}},
		{"RequesterChanged: the new requester", domain.RequesterChanged{OrganizationID: org, OrganizationName: "Acme Travaux",
			ContractID: contract, Title: "Wartung", Requester: emma, PreviousRequesterID: anna.PortalUserID, Locale: "de"},
			[]Mail{mailTo("requester", emma, "requester", mail.LocaleDE, "Wartung")}},
		{"WatcherAdded: the new watcher", domain.WatcherAdded{OrganizationID: org, OrganizationName: "Acme Travaux",
			ContractID: contract, Title: "Maintenance", Watcher: bruno, Locale: "en"},
			[]Mail{mailTo("watcher:"+bruno.PortalUserID.String(), bruno, "watcher", mail.LocaleEN, "Maintenance")}},
		{"WatcherAdded: an unknown locale is English", domain.WatcherAdded{OrganizationID: org, OrganizationName: "Acme Travaux",
			ContractID: contract, Title: "M", Watcher: bruno, Locale: "it"},
			[]Mail{mailTo("watcher:"+bruno.PortalUserID.String(), bruno, "watcher", mail.LocaleEN, "M")}},
		{"WatcherAdded: a forgotten person has no name (and is not sent)", domain.WatcherAdded{OrganizationID: org, OrganizationName: "Acme Travaux",
			ContractID: contract, Title: "M", Watcher: forgotten, Locale: "fr"},
			[]Mail{mailTo("watcher:"+forgotten.PortalUserID.String(), forgotten, "watcher", mail.LocaleFR, "M")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule := ruleFor(tc.event.EventType())
			if rule == nil {
				t.Fatalf("no rule for %s", tc.event.EventType())
			}
			got := rule(&eventstore.Event{Data: tc.event}, base)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("mails =\n%+v\nwant\n%+v", got, tc.want)
			}
			for _, m := range got {
				if m.To.IsForgotten() {
					continue
				}
				c, err := mail.Render(m.Kind, m.Locale, m.Data)
				if err != nil {
					t.Fatalf("render %s: %v", m.Recipient, err)
				}
				for _, want := range []string{m.Data.ContractTitle, "Acme Travaux", link} {
					if !strings.Contains(c.Text, want) {
						t.Errorf("%s's email lacks %q:\n%s", m.Recipient, want, c.Text)
					}
				}
			}
		})
	}
}

// The contract id is the caller's own: the link escapes what a path needs.
func TestContractLink(t *testing.T) {
	t.Parallel()
	org := uuid.MustParse("00000000-0000-4000-8000-00000000000a")
	got := ContractLink("https://app.example", org, domain.MustParseContractID("A.b_c:d-1"))
	if want := "https://app.example/portal/" + org.String() + "/contracts/A.b_c:d-1"; got != want {
		t.Fatalf("link = %q; want %q", got, want)
	}
}
