package projections

import (
	"context"

	"github.com/google/uuid"
)

// OrganizationNames names organizations; one the read model does not know
// has no entry.
func (r Reader) OrganizationNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	texts := make([]string, len(ids))
	for i, id := range ids {
		texts[i] = id.String()
	}
	rows, err := r.Q.Query(ctx, `SELECT id, name FROM rm_organizations WHERE id = ANY($1::text[]::uuid[])`, texts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := make(map[uuid.UUID]string, len(ids))
	for rows.Next() {
		var id uuid.UUID
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
}
