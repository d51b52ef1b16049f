package eventstore

import (
	"context"
	"time"

	"github.com/google/uuid"

	"partners/domain"
)

// PersonEvent is one event that carried a person's data, as one of the
// organizations it touched saw it.
type PersonEvent struct {
	Organization uuid.UUID
	Position     int64
	At           time.Time
	Type         string
	Stream       string
	// ContractID and PortalUserIDs are the contract and the portal users
	// the event names, if any (what a disclosure shows).
	ContractID    string
	PortalUserIDs []string
}

// PersonEvents lists the events that carried a person's data, once for each
// organization an event touched: by organization, then in the log's order.
func (s *Store) PersonEvents(ctx context.Context, ref domain.PersonRef) ([]PersonEvent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT o.org, e.position, e.recorded_at, e.event_type, e.stream_id, coalesce(e.data->>'contract_id', ''),
		       array(SELECT DISTINCT v #>> '{}' FROM jsonb_path_query(e.data, 'lax $.**.portal_user_id') v)
		  FROM events e CROSS JOIN LATERAL unnest(e.organization_ids) AS o(org)
		 WHERE e.person_refs @> ARRAY[$1]::text[] AND e.person_refs <> '{}'::text[]
		 ORDER BY o.org, e.transaction_id, e.position`, string(ref))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PersonEvent
	for rows.Next() {
		var e PersonEvent
		if err := rows.Scan(&e.Organization, &e.Position, &e.At, &e.Type, &e.Stream, &e.ContractID, &e.PortalUserIDs); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// PersonRefsIn lists the person refs that ever appeared in a stream.
func (s *Store) PersonRefsIn(ctx context.Context, streamID string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT unnest(person_refs) FROM events WHERE stream_id = $1`, streamID)
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
