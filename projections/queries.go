package projections

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
	"partners/eventstore"
)

// Reader answers queries from read models. Its Queryer decides which copy:
// the live tables, or the temporary tables of an as-of replay that shadow
// them in the same session.
type Reader struct {
	Q eventstore.Queryer
}

// OrganizationView is an organization as its members see it.
type OrganizationView struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Side      string    `json:"side"`
	Siret     *string   `json:"siret"`
	CreatedAt time.Time `json:"created_at"`
}

// Organization returns one organization; ok is false when unknown.
func (r Reader) Organization(ctx context.Context, id uuid.UUID) (OrganizationView, bool, error) {
	rows, err := r.Q.Query(ctx, `SELECT id, name, side, siret, created_at FROM rm_organizations WHERE id = $1`, id)
	if err != nil {
		return OrganizationView{}, false, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[OrganizationView])
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	v.CreatedAt = v.CreatedAt.UTC()
	return v, err == nil, err
}

// Grant is a user's standing in an organization per the members read
// model; zero when not a member. It may lag behind the events: never
// authorize with it (app.GrantOf answers from the events).
func (r Reader) Grant(ctx context.Context, org uuid.UUID, userID string) (domain.Grant, error) {
	rows, err := r.Q.Query(ctx, `SELECT role, can_purchase, can_see_all_orders FROM rm_members WHERE organization_id = $1 AND user_id = $2`, org, userID)
	if err != nil {
		return domain.Grant{}, err
	}
	g, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[domain.Grant])
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Grant{}, nil
	}
	return g, err
}

// MembershipView is one of the caller's memberships.
type MembershipView struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	Side           string    `json:"side"`
	Role           string    `json:"role"`
}

// MyOrganizations lists a user's memberships, by organization name.
func (r Reader) MyOrganizations(ctx context.Context, userID string, p Page) ([]MembershipView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT o.id, o.name, o.side, m.role FROM rm_members m JOIN rm_organizations o ON o.id = m.organization_id
		 WHERE m.user_id = $1 AND ($2 = '' OR (o.name, o.id::text) > ($2, $3))
		 ORDER BY o.name, o.id::text LIMIT $4`, userID, str(p.After, 0), str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[MembershipView])
	if err != nil {
		return nil, "", err
	}
	return pageOf(items, p.Limit, func(m MembershipView) string { return EncodeCursor(m.Name, m.OrganizationID.String()) })
}

// MemberView is one member of an organization.
type MemberView struct {
	UserID          string    `json:"user_id"`
	Email           string    `json:"email"`
	Name            string    `json:"name"`
	Role            string    `json:"role"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	Since           time.Time `json:"since"`
}

// Members lists an organization's members, by user id.
func (r Reader) Members(ctx context.Context, org uuid.UUID, p Page) ([]MemberView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT user_id, email, name, role, can_purchase, can_see_all_orders, since FROM rm_members
		 WHERE organization_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3`, org, str(p.After, 0), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[MemberView])
	if err != nil {
		return nil, "", err
	}
	for i := range items {
		items[i].Since = items[i].Since.UTC()
	}
	return pageOf(items, p.Limit, func(m MemberView) string { return EncodeCursor(m.UserID) })
}

// pageOf cuts the extra row fetched to know whether a next page exists.
func pageOf[T any](items []T, limit int, cursor func(T) string) ([]T, string, error) {
	if items == nil {
		items = []T{}
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, cursor(items[limit-1]), nil
}
