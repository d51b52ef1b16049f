package projections

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
)

// PortalUserView is a portal user as "Manage clients" lists them.
type PortalUserView struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Company   string    `json:"company"`
	CreatedAt time.Time `json:"created_at"`
}

// PortalUsers lists an organization's portal users in the order they were
// created, optionally those of one company (compared as the same-company
// rule does). The order holds no personal data, so neither do cursors,
// which end up in URLs and logs.
func (r Reader) PortalUsers(ctx context.Context, org uuid.UUID, company string, p Page) ([]PortalUserView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT id, email, name, company, created_at FROM rm_portal_users
		 WHERE organization_id = $1 AND ($2 = '' OR company_key = $2)
		   AND ($3 = '' OR (created_at, id::text) > ($3::timestamptz, $4))
		 ORDER BY created_at, id::text LIMIT $5`,
		org, domain.NormalizeCompany(company), str(p.After, 0), str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PortalUserView])
	if err != nil {
		return nil, "", err
	}
	for i := range items {
		utc(&items[i].CreatedAt)
	}
	return pageOf(items, p.Limit, func(v PortalUserView) string {
		return EncodeCursor(v.CreatedAt.Format(time.RFC3339Nano), v.ID.String())
	})
}

// PortalUser returns one of an organization's portal users; ok is false
// when the organization has no such portal user.
func (r Reader) PortalUser(ctx context.Context, org, id uuid.UUID) (PortalUserView, bool, error) {
	rows, err := r.Q.Query(ctx, `SELECT id, email, name, company, created_at FROM rm_portal_users
		WHERE organization_id = $1 AND id = $2`, org, id)
	if err != nil {
		return PortalUserView{}, false, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[PortalUserView])
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	utc(&v.CreatedAt)
	return v, err == nil, err
}

// PortalPersonView is a requester or watcher as a contract's portal access
// shows them.
type PortalPersonView struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Company string    `json:"company"`
}

// ContractPortalView is a contract's portal access.
type ContractPortalView struct {
	ContractID         string             `json:"contract_id"`
	Title              string             `json:"title"`
	Requester          PortalPersonView   `json:"requester"`
	Watchers           []PortalPersonView `json:"watchers"`
	AttachmentsVisible bool               `json:"attachments_visible"`
	SharedAt           time.Time          `json:"shared_at"`
}

// ContractPortal returns who sees a contract in an organization's portal;
// ok is false when the portal does not show it. Watchers come in the order
// they were given access. One statement, so the answer is one snapshot.
func (r Reader) ContractPortal(ctx context.Context, org uuid.UUID, contract string) (ContractPortalView, bool, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT c.title, c.attachments_visible, c.shared_at, a.role, a.portal_user_id,
		       coalesce(u.name, ''), coalesce(u.email, ''), coalesce(u.company, '')
		  FROM rm_portal_contracts c
		  LEFT JOIN rm_portal_access a ON a.organization_id = c.organization_id AND a.contract_id = c.contract_id
		  LEFT JOIN rm_portal_users u ON u.id = a.portal_user_id
		 WHERE c.organization_id = $1 AND c.contract_id = $2 AND c.shown
		 ORDER BY a.role = 'watcher', a.position, a.ord`, org, contract)
	if err != nil {
		return ContractPortalView{}, false, err
	}
	defer rows.Close()
	v := ContractPortalView{ContractID: contract, Watchers: []PortalPersonView{}}
	found := false
	for rows.Next() {
		found = true
		var role *string
		var id *uuid.UUID
		var p PortalPersonView
		if err := rows.Scan(&v.Title, &v.AttachmentsVisible, &v.SharedAt, &role, &id, &p.Name, &p.Email, &p.Company); err != nil {
			return ContractPortalView{}, false, err
		}
		if role == nil || id == nil {
			continue
		}
		p.ID = *id
		if *role == domain.PortalRoleRequester {
			v.Requester = p
		} else {
			v.Watchers = append(v.Watchers, p)
		}
	}
	if err := rows.Err(); err != nil {
		return ContractPortalView{}, false, err
	}
	utc(&v.SharedAt)
	return v, found, nil
}

// PortalContractView is a row of a portal user's Contracts page.
type PortalContractView struct {
	ContractID         string `json:"contract_id"`
	Title              string `json:"title"`
	As                 string `json:"as"`
	AttachmentsVisible bool   `json:"attachments_visible"`
}

// PortalUserContracts lists the contracts a portal user sees (their
// Contracts page), by contract id.
func (r Reader) PortalUserContracts(ctx context.Context, org, portalUser uuid.UUID, p Page) ([]PortalContractView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT a.contract_id, c.title, a.role, c.attachments_visible
		  FROM rm_portal_access a
		  JOIN rm_portal_contracts c ON c.organization_id = a.organization_id AND c.contract_id = a.contract_id
		 WHERE a.organization_id = $1 AND a.portal_user_id = $2 AND c.shown AND a.contract_id > $3
		 ORDER BY a.contract_id LIMIT $4`, org, portalUser, str(p.After, 0), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PortalContractView])
	if err != nil {
		return nil, "", err
	}
	return pageOf(items, p.Limit, func(v PortalContractView) string { return EncodeCursor(v.ContractID) })
}
