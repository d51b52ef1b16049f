package api

import (
	"slices"
	"testing"

	"partners/domain"
)

// A ?min_position= waits for every read model a query reads, the members
// read model of its membership check included, each once.
func TestReadsWaitFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    reads
		want []string
	}{
		{"nothing", reads{}, nil},
		{"membership only", reads{member: domain.ActionAuditRead}, []string{"members"}},
		{"live and replayed", reads{member: domain.ActionInvitationsRead, live: []string{"organizations"}, replayed: []string{"invitations_received"}},
			[]string{"members", "organizations", "invitations_received"}},
		{"members replayed", reads{member: domain.ActionMembersRead, replayed: []string{"members", "collaborator_invitations"}},
			[]string{"members", "collaborator_invitations"}},
		{"not scoped", reads{live: []string{"organizations", "members"}}, []string{"organizations", "members"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.waitFor(); !slices.Equal(got, tc.want) {
				t.Fatalf("waitFor() = %v; want %v", got, tc.want)
			}
		})
	}
}
