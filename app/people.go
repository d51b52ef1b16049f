package app

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
	"partners/eventstore"
)

// Forgotten is the outcome of forgetting a person.
type Forgotten struct {
	Ref           domain.PersonRef
	KeysDestroyed int
	Result        eventstore.Result
}

// Eraser deletes, inside the transaction that forgets a person, the copies
// of their data a table outside the event store holds (the api's
// idempotency records): its owner exports it, cmd/partners wires it.
type Eraser func(ctx context.Context, tx pgx.Tx, ref domain.PersonRef) error

// ForgetPerson erases a person without breaking history: their data keys
// are destroyed, the Erasers run, and a PersonForgotten event recorded, all
// in one transaction. Read models scrub their copies when they apply the
// event.
func (a *App) ForgetPerson(ctx context.Context, actor domain.Actor, email domain.Email) (Forgotten, error) {
	ref := a.Store.Keys().Ref(email.String())
	tx, err := a.Store.Pool().Begin(ctx)
	if err != nil {
		return Forgotten{}, err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck
	n, err := a.Store.Keys().Forget(ctx, tx, ref)
	if err != nil {
		return Forgotten{}, err
	}
	for _, erase := range a.Erasers {
		if err := erase(ctx, tx, ref); err != nil {
			return Forgotten{}, err
		}
	}
	meta := a.metadata(ctx, actor, "ForgetPerson")
	if actor.EmailRef == ref {
		meta.Actor.Email = domain.Personal{} // the person forgot themselves
	}
	res, err := a.Store.AppendTx(ctx, tx, eventstore.Batch{Meta: meta, Streams: []eventstore.StreamAppend{{
		StreamID: domain.PersonStream(ref), StreamType: domain.PersonStreamType, Expected: eventstore.Any,
		Events: a.newEvents([]domain.Event{domain.PersonForgotten{PersonRef: ref, KeysDestroyed: int(n)}}),
	}}})
	if err != nil {
		return Forgotten{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Forgotten{}, err
	}
	if a.Appended != nil {
		a.Appended()
	}
	return Forgotten{Ref: ref, KeysDestroyed: int(n), Result: res}, nil
}

// Disclosure is one organization a person's data was shown or shared with.
type Disclosure struct {
	OrganizationID   uuid.UUID `json:"organization_id"`
	OrganizationName string    `json:"organization_name"`
	FirstAt          time.Time `json:"first_at"`
	LastAt           time.Time `json:"last_at"`
	Events           []Shared  `json:"events"`
}

// Shared is one event that carried the person's data.
type Shared struct {
	Position      int64     `json:"position"`
	At            time.Time `json:"at"`
	Type          string    `json:"type"`
	Stream        string    `json:"stream"`
	ContractID    string    `json:"contract_id,omitempty"`
	PortalUserIDs []string  `json:"portal_user_ids,omitempty"`
}

// OrganizationNames names organizations, from a read model app does not
// read itself.
type OrganizationNames func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)

// Disclosures lists, for a person (GDPR article 15), every organization
// their data was shown or shared with, through which events and when. It
// reads the event store, the only source of truth; names only names the
// organizations.
func (a *App) Disclosures(ctx context.Context, email domain.Email, names OrganizationNames) (domain.PersonRef, []Disclosure, error) {
	ref := a.Store.Keys().Ref(email.String())
	evs, err := a.Store.PersonEvents(ctx, ref)
	if err != nil {
		return ref, nil, err
	}
	var out []Disclosure
	idx := map[uuid.UUID]int{}
	var orgs []uuid.UUID
	for _, e := range evs {
		s := Shared{Position: e.Position, At: e.At, Type: e.Type, Stream: e.Stream, ContractID: e.ContractID, PortalUserIDs: e.PortalUserIDs}
		i, ok := idx[e.Organization]
		if !ok {
			i = len(out)
			idx[e.Organization] = i
			orgs = append(orgs, e.Organization)
			out = append(out, Disclosure{OrganizationID: e.Organization, FirstAt: s.At})
		}
		d := &out[i]
		d.Events = append(d.Events, s)
		if s.At.Before(d.FirstAt) {
			d.FirstAt = s.At
		}
		if s.At.After(d.LastAt) {
			d.LastAt = s.At
		}
	}
	if len(out) == 0 {
		return ref, out, nil
	}
	named, err := names(ctx, orgs)
	if err != nil {
		return ref, nil, err
	}
	for i := range out {
		out[i].OrganizationName = named[out[i].OrganizationID]
	}
	return ref, out, nil
}
