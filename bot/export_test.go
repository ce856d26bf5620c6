package bot

import "strings"

// UnroutedButton names the first button of the replies whose callback data starts with
// a code no route takes (such a button only ever says it is stale); "" when none does.
func UnroutedButton(replies []Reply) string {
	routes := tapRoutes()
	for _, r := range replies {
		for _, line := range r.Buttons {
			for _, b := range line {
				code, _, _ := strings.Cut(b.Data, ":")
				if _, ok := routes[tap(code)]; b.Data != "" && !ok {
					return b.Text + "=" + b.Data
				}
			}
		}
	}
	return ""
}

// TapAccess is each code's loader, by name: own, dialog, client, editable, task,
// letter, file, role, order.
func TapAccess() map[string]string {
	names := map[access]string{accessOwn: "own", accessDialog: "dialog", accessClient: "client", accessEditable: "editable",
		accessTask: "task", accessLetter: "letter", accessFile: "file", accessRole: "role", accessOrder: "order"}
	out := map[string]string{}
	for code, r := range tapRoutes() {
		out[string(code)] = names[r.access]
	}
	return out
}

// OrderRef is how a button names an order.
func OrderRef(clientID, orderID string) string { return orderRef(clientID, orderID) }
