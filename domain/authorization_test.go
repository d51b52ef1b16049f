package domain_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"partners/domain"
)

// The permission table of DOMAIN.md section 5, transcribed by hand so the
// data in authorization.go is checked against the document, not against
// itself. Columns: owner, admin, member, accountant, collaborator; a
// collaborator cell is "yes", "no", "can_purchase" or "can_see_all_orders".
var documentedTable = []struct {
	actions                                  []string
	owner, admin, member, accountant, collab string
}{
	{[]string{"settings.read", "settings.write"}, "yes", "yes", "no", "no", "no"},
	{[]string{"members.manage"}, "yes", "yes", "no", "no", "no"},
	{[]string{"partners.invite", "invitations.answer"}, "yes", "yes", "no", "no", "no"},
	{[]string{"partners.read", "invitations.read", "members.read"}, "yes", "yes", "yes", "yes", "yes"},
	{[]string{"audit.read"}, "yes", "yes", "no", "yes", "no"},
	{[]string{"portal.read"}, "yes", "yes", "yes", "yes", "no"},
	{[]string{"portal.manage"}, "yes", "yes", "yes", "no", "no"},
	{[]string{"documents.read_all", "reports.read", "exports.create"}, "yes", "yes", "no", "yes", "no"},
	{[]string{"documents.read_own"}, "yes", "yes", "yes", "yes", "yes"},
	{[]string{"orders.create"}, "yes", "yes", "yes", "no", "can_purchase"},
	{[]string{"orders.read_all"}, "yes", "yes", "no", "yes", "can_see_all_orders"},
	{[]string{"orders.read_own"}, "yes", "yes", "yes", "yes", "yes"},
	{[]string{"projects.read"}, "yes", "yes", "yes", "yes", "yes"},
	{[]string{"projects.create", "projects.update"}, "yes", "yes", "yes", "no", "yes"},
	{[]string{"payments.make"}, "yes", "yes", "no", "no", "no"},
}

// TestPermissionTable walks the whole table: every action, for every role,
// with both values of each collaborator flag (flags must not matter to any
// other role), and for someone who is no member at all.
func TestPermissionTable(t *testing.T) {
	t.Parallel()
	var listed []domain.Action
	for _, row := range documentedTable {
		for _, a := range row.actions {
			listed = append(listed, domain.Action(a))
		}
	}
	if !reflect.DeepEqual(domain.Actions(), listed) {
		t.Fatalf("Actions() = %v\nwant the table's, in its order: %v", domain.Actions(), listed)
	}
	flagValues := []struct{ purchase, all bool }{{false, false}, {true, false}, {false, true}, {true, true}}
	for _, row := range documentedTable {
		cells := map[string]string{"owner": row.owner, "admin": row.admin, "member": row.member, "accountant": row.accountant, "collaborator": row.collab}
		for _, name := range row.actions {
			action, err := domain.ParseAction(name)
			if err != nil {
				t.Fatalf("ParseAction(%q): %v", name, err)
			}
			for _, role := range []string{"owner", "admin", "member", "accountant", "collaborator"} {
				for _, f := range flagValues {
					g := domain.Grant{Role: role, CanPurchase: f.purchase, CanSeeAllOrders: f.all}
					want := cells[role] == "yes" ||
						cells[role] == "can_purchase" && f.purchase ||
						cells[role] == "can_see_all_orders" && f.all
					t.Run(fmt.Sprintf("%s/%s/purchase=%v/all_orders=%v", name, role, f.purchase, f.all), func(t *testing.T) {
						d := domain.Authorize(g, action)
						if d.Allowed != want {
							t.Fatalf("Authorize(%+v, %s) = %+v; want allowed=%v (DOMAIN.md: %q)", g, name, d, want, cells[role])
						}
						if d.Reason == "" || !strings.Contains(d.Reason, name) {
							t.Fatalf("reason %q does not name the action %s", d.Reason, name)
						}
						if role == "collaborator" && cells[role] != "yes" && cells[role] != "no" && !strings.Contains(d.Reason, cells[role]) {
							t.Fatalf("reason %q does not name the flag %s it depends on", d.Reason, cells[role])
						}
					})
				}
			}
			t.Run(name+"/not a member", func(t *testing.T) {
				for _, f := range flagValues {
					if d := domain.Authorize(domain.Grant{CanPurchase: f.purchase, CanSeeAllOrders: f.all}, action); d.Allowed {
						t.Fatalf("a non-member is allowed %s: %+v", name, d)
					}
				}
				if d := domain.Authorize(domain.Grant{Role: "superuser"}, action); d.Allowed {
					t.Fatalf("an unknown role is allowed %s: %+v", name, d)
				}
			})
		}
	}
}

func TestParseActionRefusesUnknown(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "settings", "SETTINGS.READ", "orders.delete", "settings.read "} {
		if _, err := domain.ParseAction(s); domain.ErrorCode(err) != domain.CodeValidationFailed {
			t.Errorf("ParseAction(%q) err = %v; want validation_failed", s, err)
		}
	}
	if d := domain.Authorize(domain.Grant{Role: "owner"}, domain.Action("orders.delete")); d.Allowed {
		t.Fatalf("an action outside the table is allowed: %+v", d)
	}
}
