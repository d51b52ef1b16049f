package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// This file answers where access comes from (issue 21): why a person may or
// may not do something, in which intervals they held which role, and who
// could see a contract when. Every answer is a fold of the organization's
// own events (its stream, and the contract's share stream), the same events
// the permission answers are folded from, so the two cannot disagree.
//
// Times follow the as-of rule of the replays: an answer as of t holds the
// events recorded at or before t. An interval is therefore [From, To): the
// event that closes it is already in force at To.

// RecordedActor is who caused an event, as its metadata says; the email is
// personal data and reads as Forgotten once its person is forgotten.
type RecordedActor struct {
	UserID string
	Email  Personal
}

// Recorded is an event with what the log recorded about it.
type Recorded struct {
	EventID    uuid.UUID
	Type       string
	Position   int64
	OccurredAt time.Time
	Actor      RecordedActor
	Event      Event
}

// RecordedUntil is the prefix of evs (in the log's order) recorded at or
// before t: what an answer as of t folds.
func RecordedUntil(evs []Recorded, t time.Time) []Recorded {
	out := make([]Recorded, 0, len(evs))
	for _, e := range evs {
		if !e.OccurredAt.After(t) {
			out = append(out, e)
		}
	}
	return out
}

// Cause is an event an answer rests on, with a sentence saying what it did
// to the person the answer is about.
type Cause struct {
	Recorded
	Summary string
}

// GrantInterval is a time in which a person held one grant (role and
// flags) in an organization. To and ClosedBy are nil while it lasts.
type GrantInterval struct {
	UserID   string
	Grant    Grant
	From     time.Time
	To       *time.Time
	OpenedBy Cause
	ClosedBy *Cause
}

// Contains reports whether an answer as of t sees the interval's grant.
func (g GrantInterval) Contains(t time.Time) bool { return contains(g.From, g.To, t) }

func contains(from time.Time, to *time.Time, t time.Time) bool {
	return !t.Before(from) && (to == nil || t.Before(*to))
}

// subjectOf is the member an organization's event changes the grant of;
// "" for the events that change nobody's (OrganizationCreated, an email
// change).
func subjectOf(e Event) string {
	switch e := e.(type) {
	case MemberJoined:
		return e.UserID
	case MemberRoleChanged:
		return e.UserID
	case CollaboratorPermissionsChanged:
		return e.UserID
	case MemberRemoved:
		return e.UserID
	case AccountantAccessRevoked:
		return e.UserID
	case CollaboratorRemoved:
		return e.UserID
	}
	return ""
}

// summarize says what an organization's event did to its subject's grant.
func summarize(e Event, before, after Grant) string {
	flags := func(g Grant) string {
		return fmt.Sprintf("can_purchase %t, can_see_all_orders %t", g.CanPurchase, g.CanSeeAllOrders)
	}
	switch e := e.(type) {
	case MemberJoined:
		s := e.UserID + " joined as " + after.Role + viaWords(e.Via)
		if after.Role == RoleCollaborator.String() {
			s += " (" + flags(after) + ")"
		}
		return s
	case MemberRoleChanged:
		return fmt.Sprintf("%s's role changed from %s to %s by %s", e.UserID, before.Role, after.Role, e.ChangedBy)
	case CollaboratorPermissionsChanged:
		return fmt.Sprintf("%s's permissions changed from %s to %s by %s", e.UserID, flags(before), flags(after), e.ChangedBy)
	case MemberRemoved:
		return fmt.Sprintf("%s was removed from the team (was %s) by %s", e.UserID, before.Role, e.RemovedBy)
	case AccountantAccessRevoked:
		return fmt.Sprintf("%s's accountant access was revoked by %s", e.UserID, e.RevokedBy)
	case CollaboratorRemoved:
		return fmt.Sprintf("collaborator %s was removed by %s", e.UserID, e.RemovedBy)
	}
	return e.EventType()
}

func viaWords(via string) string {
	switch via {
	case ViaCreation:
		return ", creating the organization"
	case ViaMemberInvitation:
		return ", accepting a colleague invitation"
	case ViaAccountantInvitation:
		return ", accepting an accountant invitation"
	case ViaCollaboratorInvite:
		return ", activating a collaborator account"
	case ViaCollaborationRequest:
		return ", their collaboration request approved"
	}
	return ""
}

// GrantHistories folds an organization's events (in the log's order) into
// every person's grant intervals: a new interval each time their role or a
// flag changes, none while they are not a member. The intervals follow
// Organization.GrantOf exactly: the fold is the aggregate's own.
func GrantHistories(evs []Recorded) map[string][]GrantInterval {
	org := &Organization{}
	out := map[string][]GrantInterval{}
	for _, r := range evs {
		who := subjectOf(r.Event)
		before := Grant{}
		if who != "" && org.Exists() {
			before = org.GrantOf(who)
		}
		org.Apply(r.Event)
		if who == "" || !org.Exists() {
			continue
		}
		after := org.GrantOf(who)
		if after == before {
			continue
		}
		cause := Cause{Recorded: r, Summary: summarize(r.Event, before, after)}
		hist := out[who]
		if n := len(hist); n > 0 && hist[n-1].To == nil {
			at := r.OccurredAt
			hist[n-1].To, hist[n-1].ClosedBy = &at, &cause
		}
		if after.Role != "" {
			hist = append(hist, GrantInterval{UserID: who, Grant: after, From: r.OccurredAt, OpenedBy: cause})
		}
		out[who] = hist
	}
	return out
}

// MemberHistory is one person's grant intervals, oldest first.
func MemberHistory(evs []Recorded, userID string) []GrantInterval {
	return GrantHistories(evs)[userID]
}

// Explanation is the permission table's answer with the events it rests on.
type Explanation struct {
	Grant    Grant
	Decision Decision
	Because  []Cause
}

// Explain answers "may userID do a?" from the organization's events evs
// (those up to the instant asked about), and names the events the answer
// rests on, in the log's order:
//   - for a member, the event that made them one, the one that gave them
//     their current role, and, when the answer turns on a collaborator's
//     flag, the one that set the flag as it is;
//   - for a former member, the event that ended their membership;
//   - for someone never a member, nothing.
func Explain(evs []Recorded, userID string, a Action) Explanation {
	hist := MemberHistory(evs, userID)
	if len(hist) == 0 {
		return Explanation{Decision: Authorize(Grant{}, a), Because: []Cause{}}
	}
	last := hist[len(hist)-1]
	if last.ClosedBy != nil {
		return Explanation{Decision: Authorize(Grant{}, a), Because: []Cause{*last.ClosedBy}}
	}
	// The membership is the run of intervals each opened by the event that
	// closed the one before.
	start := len(hist) - 1
	for start > 0 && hist[start-1].ClosedBy != nil && hist[start-1].ClosedBy.EventID == hist[start].OpenedBy.EventID {
		start--
	}
	run := hist[start:]
	// since is the interval from which, up to now, same holds.
	since := func(same func(Grant) bool) Cause {
		i := len(run) - 1
		for i > 0 && same(run[i-1].Grant) {
			i--
		}
		return run[i].OpenedBy
	}
	g := last.Grant
	because := []Cause{run[0].OpenedBy, since(func(o Grant) bool { return o.Role == g.Role })}
	switch flagOf(g, a) {
	case collaboratorIfCanPurchase:
		because = append(because, since(func(o Grant) bool { return o.Role == g.Role && o.CanPurchase == g.CanPurchase }))
	case collaboratorIfCanSeeAllOrders:
		because = append(because, since(func(o Grant) bool { return o.Role == g.Role && o.CanSeeAllOrders == g.CanSeeAllOrders }))
	}
	slices.SortFunc(because, func(x, y Cause) int { return cmp.Compare(x.Position, y.Position) })
	because = slices.CompactFunc(because, func(x, y Cause) bool { return x.EventID == y.EventID })
	return Explanation{Grant: g, Decision: Authorize(g, a), Because: because}
}

// flagOf is the collaborator rule an answer about g and a turns on
// (collaboratorNever when it turns on the role alone).
func flagOf(g Grant, a Action) collaboratorRule {
	if g.Role != RoleCollaborator.String() {
		return collaboratorNever
	}
	switch r := permissions[a].collaborator; r {
	case collaboratorIfCanPurchase, collaboratorIfCanSeeAllOrders:
		return r
	}
	return collaboratorNever
}

// =============================================================================
// Who could see a contract

// The kinds of people who may see a contract.
const (
	AccessKindPortalUser = "portal_user"
	AccessKindMember     = "member"
)

// Viewer names someone who could see a contract: a portal user (by id) or
// a member of the organization (by user id). Name is personal data.
type Viewer struct {
	Kind string
	ID   string
	Name Personal
}

// AccessInterval is a time in which someone could see a contract, As the
// requester, a watcher, or a member with that role. To and ClosedBy are nil
// while it lasts.
type AccessInterval struct {
	Who      Viewer
	As       string
	From     time.Time
	To       *time.Time
	OpenedBy Cause
	ClosedBy *Cause
}

// Contains reports whether an answer as of t sees the access.
func (a AccessInterval) Contains(t time.Time) bool { return contains(a.From, a.To, t) }

// Overlaps reports whether the access held at some instant of [from, to]
// (a zero bound is open).
func (a AccessInterval) Overlaps(from, to time.Time) bool {
	if !to.IsZero() && a.From.After(to) {
		return false
	}
	return from.IsZero() || a.To == nil || a.To.After(from)
}

// ContractReaders are the roles that see the organization's contracts in
// the portal: those the permission table allows portal.read (DOMAIN.md
// section 5: owners, admins, members and accountants; not collaborators).
func ContractReaders(g Grant) bool { return Authorize(g, ActionPortalRead).Allowed }

// ContractAccess folds an organization's events and the events of one of
// its contract shares (each in the log's order) into every interval in
// which someone could see the contract: its requester and watchers while
// they were so, and the members whose role may read the portal while the
// contract was shown in it. Members are what GrantHistories says of them,
// intersected with the times the contract was shown.
func ContractAccess(orgEvs, shareEvs []Recorded) []AccessInterval {
	out, shown := portalAccess(shareEvs)
	names := memberNames(orgEvs)
	for userID, hist := range GrantHistories(orgEvs) {
		who := Viewer{Kind: AccessKindMember, ID: userID, Name: names[userID]}
		for _, m := range readerRuns(hist) {
			for _, s := range shown {
				if iv, ok := intersect(m, s); ok {
					iv.Who = who
					out = append(out, iv)
				}
			}
		}
	}
	SortAccess(out)
	return out
}

// SortAccess orders access intervals as the answers list them: by the
// position of the event that opened them, then by who.
func SortAccess(out []AccessInterval) {
	slices.SortFunc(out, func(x, y AccessInterval) int {
		return cmp.Or(cmp.Compare(x.OpenedBy.Position, y.OpenedBy.Position),
			strings.Compare(x.Who.Kind, y.Who.Kind), strings.Compare(x.Who.ID, y.Who.ID))
	})
}

// portalAccess folds a contract share's events into its portal users'
// intervals, and the intervals in which it was shown at all.
func portalAccess(evs []Recorded) (out []AccessInterval, shown []AccessInterval) {
	share := &ContractShare{}
	names := map[uuid.UUID]Personal{}
	open := map[uuid.UUID]int{} // portal user → index in out of their open interval
	for _, r := range evs {
		before := seers(share)
		wasShown := share.Shown
		switch e := r.Event.(type) {
		case ContractShown:
			names[e.Requester.PortalUserID] = e.Requester.Name
			for _, w := range e.Watchers {
				names[w.PortalUserID] = w.Name
			}
		case RequesterChanged:
			names[e.Requester.PortalUserID] = e.Requester.Name
		case WatcherAdded:
			names[e.Watcher.PortalUserID] = e.Watcher.Name
		}
		share.Apply(r.Event)
		after := seers(share)
		at := r.OccurredAt
		// Closings first: a watcher who becomes the requester leaves one
		// interval and opens another at the same event.
		for _, id := range sortedIDs(before) {
			if after[id] == before[id] {
				continue
			}
			c := Cause{Recorded: r, Summary: portalSummary(r.Event, id, before[id], after[id], names[id])}
			i := open[id]
			out[i].To, out[i].ClosedBy = &at, &c
			delete(open, id)
		}
		for _, id := range sortedIDs(after) {
			if after[id] == before[id] {
				continue
			}
			c := Cause{Recorded: r, Summary: portalSummary(r.Event, id, before[id], after[id], names[id])}
			open[id] = len(out)
			out = append(out, AccessInterval{Who: Viewer{Kind: AccessKindPortalUser, ID: id.String(), Name: names[id]},
				As: after[id], From: at, OpenedBy: c})
		}
		switch {
		case share.Shown && !wasShown:
			shown = append(shown, AccessInterval{From: at, OpenedBy: Cause{Recorded: r, Summary: "the contract was shown in the client portal"}})
		case !share.Shown && wasShown:
			c := Cause{Recorded: r, Summary: "the contract was withdrawn from the client portal"}
			shown[len(shown)-1].To, shown[len(shown)-1].ClosedBy = &at, &c
		}
	}
	return out, shown
}

// seers are the portal users who see a share, with their standing.
func seers(s *ContractShare) map[uuid.UUID]string {
	out := map[uuid.UUID]string{}
	if !s.Shown {
		return out
	}
	out[s.RequesterID] = PortalRoleRequester
	for _, w := range s.Watchers {
		out[w] = PortalRoleWatcher
	}
	return out
}

func sortedIDs(m map[uuid.UUID]string) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return ids
}

// portalSummary says what a share's event did to one portal user's access.
func portalSummary(e Event, id uuid.UUID, before, after string, name Personal) string {
	who := name.Value
	if who == "" {
		who = id.String()
	}
	switch e := e.(type) {
	case ContractShown:
		return who + " sees the contract as its " + after + ": it was shown in the client portal"
	case RequesterChanged:
		if after == PortalRoleRequester {
			return who + " became the contract's requester"
		}
		return who + " is no longer the contract's requester"
	case WatcherAdded:
		return who + " was added as a watcher"
	case WatcherRemoved:
		return who + " was removed from the watchers"
	case WatcherAccessWithdrawn:
		return fmt.Sprintf("%s lost access as a watcher (%s: company %q, the requester's %q)", who, e.Reason, e.WatcherCompany, e.RequesterCompany)
	case ContractWithdrawn:
		return who + " no longer sees the contract: it was withdrawn from the client portal"
	}
	if after == "" {
		return who + " no longer sees the contract as its " + before
	}
	return who + " sees the contract as its " + after
}

// memberNames are the members' names as the organization's events last
// recorded them (a forgotten person's read as Forgotten).
func memberNames(evs []Recorded) map[string]Personal {
	out := map[string]Personal{}
	for _, r := range evs {
		switch e := r.Event.(type) {
		case MemberJoined:
			out[e.UserID] = e.Name
		case MemberEmailChanged:
			out[e.UserID] = e.Name
		}
	}
	return out
}

// readerRuns turns a member's grant intervals into the intervals in which
// they could read the portal, one per role: intervals that follow each
// other with the same role (a collaborator's flags changing) are one.
func readerRuns(hist []GrantInterval) []AccessInterval {
	var out []AccessInterval
	for i, g := range hist {
		if !ContractReaders(g.Grant) {
			continue
		}
		if n := len(out); n > 0 && i > 0 && out[n-1].As == g.Grant.Role && out[n-1].ClosedBy != nil &&
			out[n-1].ClosedBy.EventID == g.OpenedBy.EventID {
			out[n-1].To, out[n-1].ClosedBy = g.To, g.ClosedBy
			continue
		}
		out = append(out, AccessInterval{As: g.Grant.Role, From: g.From, To: g.To, OpenedBy: g.OpenedBy, ClosedBy: g.ClosedBy})
	}
	return out
}

// intersect is the part of a member's interval in which the contract was
// shown, opened by the later of the two openings and closed by the earlier
// of the two closings. Empty when they share no instant.
func intersect(m, s AccessInterval) (AccessInterval, bool) {
	iv := AccessInterval{As: m.As, From: m.From, OpenedBy: m.OpenedBy}
	if s.From.After(m.From) || (s.From.Equal(m.From) && s.OpenedBy.Position > m.OpenedBy.Position) {
		iv.From, iv.OpenedBy = s.From, s.OpenedBy
	}
	iv.To, iv.ClosedBy = m.To, m.ClosedBy
	if s.To != nil && (m.To == nil || s.To.Before(*m.To) || (s.To.Equal(*m.To) && s.ClosedBy.Position < m.ClosedBy.Position)) {
		iv.To, iv.ClosedBy = s.To, s.ClosedBy
	}
	if iv.To != nil && !iv.To.After(iv.From) {
		return AccessInterval{}, false
	}
	return iv, true
}
