package api

import (
	"errors"
	"net/http"
	"testing"

	"partners/domain"
)

// Request decoding never panics, and every refusal is a client error with a
// stable code, never a 500.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Acme","side":"client","siret":"73282932000074"}`, `{"email":"a@b.fr","message":"hi","locale":"fr"}`,
		`{"token":"x","organization_id":"00000000-0000-4000-8000-000000000001"}`, `{"name":1}`, `{"name":null}`,
		`[]`, `"x"`, `{`, `{}{}`, ``, `{"a":` + string([]byte{0xff, 0xfe}) + `}`, `{"side":{"$gt":""}}`,
		`{"email":"` + string(make([]byte, 300)) + `"}`, `{"name":"\u0000"}`, `{"reason":1e999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []any{&createOrganizationRequest{}, &sendInvitationRequest{}, &claimRequest{}, &answerRequest{}, &forgetRequest{}}
		for _, v := range targets {
			err := decodeBody(body, v)
			if err == nil {
				continue
			}
			p := problemOf(err)
			if p.Status < 400 || p.Status >= 500 || p.Code == "" {
				t.Fatalf("decoding %q into %T answered %d %q; want a 4xx with a code", body, v, p.Status, p.Code)
			}
		}
		// The validation the handlers run on decoded strings.
		var req createOrganizationRequest
		if decodeBody(body, &req) == nil {
			var v domain.Validation
			domain.ParseField(&v, "name", deref(req.Name), domain.ParseOrganizationName)
			domain.ParseField(&v, "side", deref(req.Side), domain.ParseSide)
			domain.ParseField(&v, "siret", deref(req.Siret), domain.ParseSiret)
			domain.ParseField(&v, "email", deref(req.Name), domain.ParseEmail)
			domain.ParseField(&v, "phone", deref(req.Name), domain.ParsePhone)
			domain.ParseField(&v, "contract_id", deref(req.Name), domain.ParseContractID)
			if err := v.Err(); err != nil {
				var de *domain.Error
				if !errors.As(err, &de) || problemOf(err).Status != http.StatusUnprocessableEntity {
					t.Fatalf("validation error %v is not a 422", err)
				}
			}
		}
	})
}
