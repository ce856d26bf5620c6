// The access rule: which clients a manager, a head or an admin may see.

package store

// Viewer is who is asking: a manager sees own and unassigned clients, a head or an
// admin sees all.
type Viewer struct {
	ManagerID string
	Role      Role
}

func (v Viewer) sees(manager string) bool {
	return v.Role.SeesAll() || manager == "" || manager == v.ManagerID
}

// CanSee reports whether the viewer may open a client.
func (v Viewer) CanSee(c *Client) bool { return v.sees(c.ManagerID) }
