package app

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
)

// Forgotten is the outcome of forgetting a person.
type Forgotten struct {
	Ref           domain.PersonRef
	KeysDestroyed int
	Result        eventstore.Result
}

// ForgetPerson erases a person without breaking history: their data keys
// are destroyed, the idempotency records that repeat their data deleted,
// and a PersonForgotten event recorded, all in one transaction. Read models
// scrub their copies when they apply the event.
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
	if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE person_refs @> ARRAY[$1]::text[]`, string(ref)); err != nil {
		return Forgotten{}, fmt.Errorf("forget idempotency records: %w", err)
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

// Disclosures lists, for a person (GDPR article 15), every organization
// their data was shown or shared with, through which events and when. It
// reads the event store, the only source of truth.
func (a *App) Disclosures(ctx context.Context, email domain.Email) (domain.PersonRef, []Disclosure, error) {
	ref := a.Store.Keys().Ref(email.String())
	var out []Disclosure
	idx := map[uuid.UUID]int{}
	rows, err := a.Store.Pool().Query(ctx, `
		SELECT e.position, e.recorded_at, e.event_type, e.stream_id, o.org, coalesce(r.name, ''),
		       coalesce(e.data->>'contract_id', ''),
		       array(SELECT DISTINCT v #>> '{}' FROM jsonb_path_query(e.data, 'lax $.**.portal_user_id') v)
		  FROM events e CROSS JOIN LATERAL unnest(e.organization_ids) AS o(org)
		  LEFT JOIN rm_organizations r ON r.id = o.org
		 WHERE e.person_refs @> ARRAY[$1]::text[]
		 ORDER BY o.org, e.transaction_id, e.position`, string(ref))
	if err != nil {
		return ref, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s Shared
		var org uuid.UUID
		var name string
		if err := rows.Scan(&s.Position, &s.At, &s.Type, &s.Stream, &org, &name, &s.ContractID, &s.PortalUserIDs); err != nil {
			return ref, nil, err
		}
		s.At = s.At.UTC()
		i, ok := idx[org]
		if !ok {
			i = len(out)
			idx[org] = i
			out = append(out, Disclosure{OrganizationID: org, OrganizationName: name, FirstAt: s.At})
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
	return ref, out, rows.Err()
}

// PeopleOf lists the person refs that ever appeared in an organization's
// own stream (its members, past and present), for as-of replays of
// invitations addressed to them by email.
func (a *App) PeopleOf(ctx context.Context, org uuid.UUID) ([]string, error) {
	rows, err := a.Store.Pool().Query(ctx, `SELECT DISTINCT unnest(person_refs) FROM events WHERE stream_id = $1`, domain.OrganizationStream(org))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	refs := []string{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	return refs, rows.Err()
}
