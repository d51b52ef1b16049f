package integration_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"partners/app"
	"partners/domain"
	"partners/integration"
)

// Every internal event is either made into a public one or listed as
// internal with its reason: a new event type needs a decision.
func TestEveryInternalEventIsDecided(t *testing.T) {
	from := map[string]string{}
	for _, e := range integration.Events {
		for _, f := range e.From {
			if _, ok := domain.LookupEvent(f); !ok {
				t.Errorf("%s is made from %s, which is no registered event", e.Name, f)
			}
			from[f] = e.Name
		}
	}
	for _, typ := range domain.EventTypes() {
		_, public := from[typ]
		_, internal := integration.Internal[typ]
		if public == internal {
			t.Errorf("%s: public %v, internal %v; want exactly one", typ, public, internal)
		}
	}
	for typ := range integration.Internal {
		if _, ok := domain.LookupEvent(typ); !ok {
			t.Errorf("Internal lists %s, which is no registered event", typ)
		}
	}
}

// The AsyncAPI document names every public event once, on its channel
// address, with the event's schema as payload; every schema compiles.
func TestAsyncAPIDocumentCoversTheContract(t *testing.T) {
	var doc struct {
		AsyncAPI string `json:"asyncapi"`
		Channels map[string]struct {
			Address string `json:"address"`
		} `json:"channels"`
		Operations map[string]struct {
			Action string `json:"action"`
		} `json:"operations"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(integration.AsyncAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.AsyncAPI, "3.") {
		t.Fatalf("asyncapi %q, want 3.x", doc.AsyncAPI)
	}
	addresses := map[string]bool{}
	for _, c := range doc.Channels {
		addresses[c.Address] = true
	}
	for _, e := range integration.Events {
		if !addresses[integration.ChannelAddress(e.Name)] {
			t.Errorf("no channel at %s", integration.ChannelAddress(e.Name))
		}
	}
	if len(doc.Channels) != len(integration.Events) || len(doc.Operations) != len(integration.Events) {
		t.Errorf("%d channels, %d operations for %d events", len(doc.Channels), len(doc.Operations), len(integration.Events))
	}
	validator(t)
}

// A person's email, name, message and contact details are sealed in the
// log and never put on the stream; once forgotten, the stream holds their
// ref and a person.forgotten message, nothing readable.
func TestForgottenPersonLeavesNothingReadableOnTheStream(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := app.New(r.store)
	alice := domain.Actor{UserID: "sub-7f3a9c", Email: domain.MustParseEmail("alice.martin@example.com"), EmailVerified: true, Name: "Alice Martin"}
	alice.EmailRef = r.store.Keys().Ref(alice.Email.String())
	org, _, err := a.CreateOrganization(ctx, alice, "Martin Travaux", domain.SideClient, domain.Siret{})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := domain.ParsePhone("+33612345678")
	if err != nil {
		t.Fatal(err)
	}
	bob := domain.MustParseEmail("bob.dupont@example.org")
	if _, err := a.SendInvitation(ctx, alice, org, bob, "Bonjour Bob, secret plans inside", domain.PartnerContact{
		Name: "Bob Dupont", Company: "Dupont Plomberie", Phone: phone}, "fr"); err != nil {
		t.Fatal(err)
	}
	r.drain(t, 3) // organization created, member joined, invitation sent
	for _, who := range []domain.Email{bob, alice.Email} {
		if _, err := a.ForgetPerson(ctx, domain.Actor{UserID: "admin"}, who); err != nil {
			t.Fatal(err)
		}
	}
	r.drain(t, 5) // and two person.forgotten

	got := consumeAll(t, r.nc, "forgotten", 5)
	schemas := validator(t)
	refs := map[string]bool{string(alice.EmailRef): false, string(r.store.Keys().Ref(bob.String())): false}
	for _, m := range got {
		validate(t, schemas, m.raw)
		var all strings.Builder
		all.Write(m.raw)
		for k, v := range m.headers {
			all.WriteString(k + strings.Join(v, ""))
		}
		for _, secret := range []string{"alice", "Alice", "Martin", "bob", "Bob", "Dupont", "Bonjour", "secret", "612345678", "example"} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("%s holds %q:\n%s", m.msg.Type, secret, m.raw)
			}
		}
		if m.msg.Type == "partners.person.forgotten.v1" {
			var d integration.PersonForgottenV1
			if err := json.Unmarshal(m.msg.Data, &d); err != nil {
				t.Fatal(err)
			}
			refs[d.PersonRef] = true
			if m.msg.OrganizationID != org {
				t.Errorf("person.forgotten for %s, want the organization that named them %s", m.msg.OrganizationID, org)
			}
		}
	}
	for ref, seen := range refs {
		if !seen {
			t.Errorf("no person.forgotten for %s", ref)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d messages, want 5", len(got))
	}
}
