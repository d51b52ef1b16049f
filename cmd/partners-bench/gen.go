package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// gen makes synthetic but realistic histories: the events the commands of
// the service append (same types, same payloads, personal data sealed by
// the real event store), grouped in stories that each append in one batch.
// It is not safe for concurrent use.
type gen struct {
	keys *eventstore.Keyring
	rng  *rand.Rand
	seq  int
	at   time.Time
	// template marks every id the generator makes with templatePrefix, so
	// that SQL can replicate the stories with fresh ids (see replicate).
	template bool
	ids      uint64
}

// templatePrefix starts every id of a template story; copy k of the
// template replaces it with copyPrefix(k).
const templatePrefix = "b0000000-"

func copyPrefix(k int) string { return fmt.Sprintf("b%07x-", k) }

// id is a fresh id: random, or in template mode a marked one.
func (g *gen) id() uuid.UUID {
	if !g.template {
		return uuid.New()
	}
	g.ids++
	return uuid.MustParse(fmt.Sprintf("%s0000-4000-8000-%012x", templatePrefix, g.ids))
}

func (g *gen) ev(d domain.Event) eventstore.NewEvent { return eventstore.NewEvent{ID: g.id(), Data: d} }

type person struct {
	sub, email, name string
	ref              domain.PersonRef
}

type orgState struct {
	id    uuid.UUID
	name  string
	side  domain.Side
	owner person
}

// story is one batch to append.
type story struct {
	batch eventstore.Batch
	// touched counts the events of the batch that touched each
	// organization (its audit log grows by that much).
	touched map[uuid.UUID]int
	events  int
}

func newGen(keys *eventstore.Keyring, seed uint64, at time.Time) *gen {
	return &gen{keys: keys, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), at: at}
}

func (g *gen) next() int { g.seq++; return g.seq }

func (g *gen) newPerson() person {
	n := g.next()
	email := fmt.Sprintf("person%d@entreprise%d.example", n, n%997)
	return person{sub: "user-" + strconv.Itoa(n), email: email, name: fmt.Sprintf("Prénom%d Nom%d", n, n%1013), ref: g.keys.Ref(email)}
}

func (g *gen) personal(p person, v string) domain.Personal { return domain.PersonalOf(p.ref, v) }

func (g *gen) actor(p person) eventstore.Metadata {
	return eventstore.Metadata{Actor: eventstore.Actor{UserID: p.sub, Email: g.personal(p, p.email)},
		RequestID: uuid.NewString(), Command: "Bench"}
}

func (s *story) add(st eventstore.StreamAppend) {
	s.batch.Streams = append(s.batch.Streams, st)
	for _, e := range st.Events {
		s.events++
		if o, ok := e.Data.(domain.Organizational); ok {
			seen := map[uuid.UUID]bool{}
			for _, id := range o.OrganizationIDs() {
				if !seen[id] {
					seen[id] = true
					s.touched[id]++
				}
			}
		}
	}
}

func newStory(meta eventstore.Metadata) *story {
	return &story{batch: eventstore.Batch{Meta: meta}, touched: map[uuid.UUID]int{}}
}

// newOrg opens a company account: OrganizationCreated and its owner's
// MemberJoined (2 events).
func (g *gen) newOrg(side domain.Side) (*story, *orgState) {
	owner := g.newPerson()
	n := g.next()
	o := &orgState{id: g.id(), side: side, owner: owner, name: fmt.Sprintf("Entreprise %d %s", n, side.String())}
	s := newStory(g.actor(owner))
	s.add(g.orgStream(o, NoStreamOrAny(true),
		domain.OrganizationCreated{OrganizationID: o.id, Name: o.name, Side: side},
		domain.MemberJoined{OrganizationID: o.id, UserID: owner.sub, Email: g.personal(owner, owner.email),
			Name: g.personal(owner, owner.name), EmailVerified: true, Role: domain.RoleOwner, Via: "creation"}))
	return s, o
}

// NoStreamOrAny picks the expectation of a stream: a new stream must not
// exist; an existing one takes any version (stories of the same stream may
// commit in any order between the loader's writers).
func NoStreamOrAny(fresh bool) eventstore.Expected {
	if fresh {
		return eventstore.NoStream
	}
	return eventstore.Any
}

func (g *gen) orgStream(o *orgState, exp eventstore.Expected, evs ...domain.Event) eventstore.StreamAppend {
	st := eventstore.StreamAppend{StreamID: domain.OrganizationStream(o.id), StreamType: domain.OrganizationStreamType, Expected: exp}
	for _, e := range evs {
		st.Events = append(st.Events, g.ev(e))
	}
	return st
}

type invState struct {
	id      uuid.UUID
	from    *orgState
	to      person
	expires time.Time
}

func (g *gen) sent(from *orgState, to person) (invState, domain.InvitationSent) {
	inv := invState{id: g.id(), from: from, to: to, expires: g.at.Add(30 * 24 * time.Hour)}
	return inv, domain.InvitationSent{InvitationID: inv.id, InviterOrganizationID: from.id, InviterName: from.name,
		InviterSide: from.side, InviteeSide: other(from.side), Email: g.personal(to, to.email), EmailRef: to.ref,
		Message:   g.personal(from.owner, "Bonjour, nous souhaitons vous ajouter à notre panel de partenaires pour nos chantiers."),
		TokenHash: fmt.Sprintf("%064x", g.rng.Uint64()), ExpiresAt: inv.expires, Locale: "fr"}
}

func other(s domain.Side) domain.Side {
	if s == domain.SideClient {
		return domain.SideSubcontractor
	}
	return domain.SideClient
}

func (g *gen) invStream(inv invState, evs ...domain.Event) eventstore.StreamAppend {
	st := eventstore.StreamAppend{StreamID: domain.InvitationStream(inv.id), StreamType: domain.InvitationStreamType, Expected: eventstore.NoStream}
	for _, e := range evs {
		st.Events = append(st.Events, g.ev(e))
	}
	return st
}

// invitation is a lone InvitationSent (the ceiling's payload).
func (g *gen) invitation(from *orgState, to person) *story {
	inv, e := g.sent(from, to)
	s := newStory(g.actor(from.owner))
	s.add(g.invStream(inv, e))
	return s
}

// storyAccept: a new partner signs up with the invited email and accepts
// (5 events; 3 touch the inviter).
func (g *gen) storyAccept(from *orgState, claim bool) *story {
	s, to := g.newOrg(other(from.side))
	s.batch.Meta = g.actor(from.owner)
	addressee := to.owner
	if claim {
		addressee = g.newPerson() // the address nobody signed up with
	}
	inv, sent := g.sent(from, addressee)
	client, sub := from, to
	if from.side == domain.SideSubcontractor {
		client, sub = to, from
	}
	evs := []domain.Event{sent}
	via := "email"
	if claim {
		via = "claim"
		evs = append(evs, domain.InvitationClaimed{InvitationID: inv.id, InviterOrganizationID: from.id, OrganizationID: to.id,
			OrganizationName: to.name, ClaimedBy: to.owner.sub, ClaimedByEmail: g.personal(to.owner, to.owner.email)})
	}
	evs = append(evs, domain.InvitationAccepted{InvitationID: inv.id, InviterOrganizationID: from.id, OrganizationID: to.id,
		OrganizationName: to.name, AcceptedBy: to.owner.sub, ClientID: client.id, SubcontractorID: sub.id, Via: via})
	s.add(g.invStream(inv, evs...))
	s.add(eventstore.StreamAppend{StreamID: domain.PartnershipStream(client.id, sub.id), StreamType: domain.PartnershipStreamType,
		Expected: eventstore.NoStream, Events: []eventstore.NewEvent{g.ev(domain.PartnershipEstablished{
			ClientID: client.id, ClientName: client.name, SubcontractorID: sub.id, SubcontractorName: sub.name, InvitationID: inv.id})}})
	return s
}

// storyDecline: a new organization declines (4 events; 2 touch the inviter).
func (g *gen) storyDecline(from *orgState) *story {
	s, to := g.newOrg(other(from.side))
	inv, sent := g.sent(from, to.owner)
	s.add(g.invStream(inv, sent, domain.InvitationDeclined{InvitationID: inv.id, InviterOrganizationID: from.id, OrganizationID: to.id,
		DeclinedBy: to.owner.sub, Reason: g.personal(to.owner, "Pas de disponibilité ce trimestre.")}))
	return s
}

// storyResendRevoke: sent, resent, revoked (3 events, all the inviter's).
func (g *gen) storyResendRevoke(from *orgState) *story {
	to := g.newPerson()
	inv, sent := g.sent(from, to)
	s := newStory(g.actor(from.owner))
	s.add(g.invStream(inv, sent,
		domain.InvitationResent{InvitationID: inv.id, InviterOrganizationID: from.id, InviterName: from.name, InviterSide: from.side,
			InviteeSide: other(from.side), Email: sent.Email, Message: sent.Message, TokenHash: fmt.Sprintf("%064x", g.rng.Uint64()),
			ExpiresAt: inv.expires.Add(24 * time.Hour), Locale: "fr"},
		domain.InvitationRevoked{InvitationID: inv.id, InviterOrganizationID: from.id, RevokedBy: from.owner.sub}))
	return s
}

// storyPortal: two portal users, a contract shown to the first with the
// second as watcher, a watcher added and removed (6 events, all the
// organization's).
func (g *gen) storyPortal(o *orgState) *story {
	s := newStory(g.actor(o.owner))
	company := fmt.Sprintf("Client final %d", g.rng.IntN(5000))
	var users []domain.PortalRecipient
	for i := 0; i < 3; i++ {
		p := g.newPerson()
		id := g.id()
		users = append(users, domain.PortalRecipient{PortalUserID: id, Email: g.personal(p, p.email), Name: g.personal(p, p.name), Company: company})
		s.add(eventstore.StreamAppend{StreamID: domain.PortalUserStream(id), StreamType: domain.PortalUserStreamType, Expected: eventstore.NoStream,
			Events: []eventstore.NewEvent{g.ev(domain.PortalUserCreated{PortalUserID: id, OrganizationID: o.id, Email: users[i].Email,
				EmailRef: p.ref, Name: users[i].Name, Company: company})}})
	}
	prefix := ""
	if g.template {
		prefix = templatePrefix
	}
	cid := domain.MustParseContractID(fmt.Sprintf("CTR-%s%d", prefix, g.next()))
	title := "Rénovation " + cid.String()
	s.add(eventstore.StreamAppend{StreamID: domain.ContractShareStream(o.id, cid), StreamType: domain.ContractShareStreamType, Expected: eventstore.NoStream,
		Events: []eventstore.NewEvent{
			g.ev(domain.ContractShown{OrganizationID: o.id, OrganizationName: o.name, ContractID: cid, Title: title,
				Requester: users[0], Watchers: []domain.PortalRecipient{users[1]}, AttachmentsVisible: true, Locale: "fr"}),
			g.ev(domain.WatcherAdded{OrganizationID: o.id, OrganizationName: o.name, ContractID: cid, Title: title, Watcher: users[2], Locale: "fr"}),
			g.ev(domain.WatcherRemoved{OrganizationID: o.id, ContractID: cid, PortalUserID: users[1].PortalUserID}),
		}})
	return s
}

// storyMember: a colleague joins (1 event).
func (g *gen) storyMember(o *orgState) *story {
	p := g.newPerson()
	s := newStory(g.actor(o.owner))
	s.add(g.orgStream(o, eventstore.Any, domain.MemberJoined{OrganizationID: o.id, UserID: p.sub, Email: g.personal(p, p.email),
		Name: g.personal(p, p.name), EmailVerified: true, Role: domain.RoleMember, Via: "invitation"}))
	return s
}

// hubStory is one story of the hub's mix; remaining caps how many of the
// hub's events it may add, so the hub's log ends exactly at its target.
func (g *gen) hubStory(hub *orgState, remaining int) *story {
	if remaining < 6 && !g.template {
		return g.storyMember(hub)
	}
	n := g.rng.IntN(100)
	if g.template && n >= 90 {
		n = g.rng.IntN(90) // the hub's own stream is never replicated
	}
	switch {
	case n < 40:
		return g.storyAccept(hub, false)
	case n < 50:
		return g.storyAccept(hub, true)
	case n < 60:
		return g.storyDecline(hub)
	case n < 70:
		return g.storyResendRevoke(hub)
	case n < 90:
		return g.storyPortal(hub)
	default:
		return g.storyMember(hub)
	}
}

// asOfStory is one story of the as-of organization: accepted invitations
// (3 of its events each), and declines (2 each) to land on its target
// exactly.
func (g *gen) asOfStory(o *orgState, remaining int) *story {
	if remaining%3 != 0 {
		return g.storyDecline(o)
	}
	return g.storyAccept(o, false)
}
