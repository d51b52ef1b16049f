package api

import (
	"net/http"
	"testing"

	"partners/domain"
)

// The error set is closed: every domain code has its status in the one
// table, and a code the table lacks is a bug, answered 500 internal.
func TestEveryDomainCodeHasAStatus(t *testing.T) {
	for _, code := range domain.Codes() {
		t.Run(string(code), func(t *testing.T) {
			p := problemOf(domain.Errorf(code, "why"))
			if st, ok := statusOf[string(code)]; !ok || p.Status != st || p.Code != string(code) {
				t.Fatalf("code %s answered %d %q; want its own status from statusOf (mapped: %v)", code, p.Status, p.Code, ok)
			}
			if p.Status < 400 || p.Status >= 500 {
				t.Fatalf("code %s answered %d; want a client error", code, p.Status)
			}
		})
	}
	t.Run("ErrUnmapped", func(t *testing.T) {
		p := problemOf(domain.Errorf("no_such_code", "a bug"))
		if p.Status != http.StatusInternalServerError || p.Code != codeInternal {
			t.Fatalf("an unmapped code answered %d %q; want 500 %q", p.Status, p.Code, codeInternal)
		}
	})
}
