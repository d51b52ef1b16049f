package api_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"partners/internal/apitest"
	"partners/internal/pgtest"
)

// A verified token for "\u212Aate@…" (Kelvin sign) is not Kate: it is not
// addressed by her invitation, and no invitation can be sent to it.
func TestEmailLookAlikeIsNotTheAddressee(t *testing.T) {
	s := apitest.Start(t, pgtest.Pool(t), apitest.Options{})
	client := apitest.NewUser(t, "Claire")
	id := uuid.NewString()[:8]
	user := func(sub, email string) apitest.User {
		return apitest.User{Sub: sub + "-" + id, Email: email, Name: sub, Token: apitest.Token(t, sub+"-"+id, email, sub)}
	}
	kate := user("kate", "kate-"+id+"@example.com")
	kelvin := user("kelvin", "\u212Aate-"+id+"@example.com")

	acme, _ := s.CreateOrganization(t, client, "Acme Travaux", "client")
	invID, _, pos := invite(t, s, client, acme, kate.Email)

	r := post(t, s, client, "/v1/organizations/"+acme+"/invitations", map[string]any{"email": kelvin.Email})
	apitest.Expect(t, r, http.StatusUnprocessableEntity, "validation_failed")

	theirs, pos2 := s.CreateOrganization(t, kelvin, "Kelvin SARL", "subcontractor")
	if got := list(t, s, kelvin, "/v1/organizations/"+theirs+"/invitations/received", max(pos, pos2)); len(got) != 0 {
		t.Fatalf("the look-alike sees %v; want nothing", got)
	}
	r = post(t, s, kelvin, "/v1/invitations/"+invID+"/accept", map[string]any{"organization_id": theirs})
	if r.Status < 400 || r.Status >= 500 {
		t.Fatalf("the look-alike's accept = %d; want a refusal\n%s", r.Status, r.Body)
	}

	hers, pos3 := s.CreateOrganization(t, kate, "Kate Plomberie", "subcontractor")
	if got := list(t, s, kate, "/v1/organizations/"+hers+"/invitations/received", pos3); len(got) != 1 || got[0]["id"] != invID {
		t.Fatalf("Kate sees %v; want her invitation %s", got, invID)
	}
}
