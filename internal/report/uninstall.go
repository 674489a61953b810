package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/slipwayhq/slipway/internal/result"
)

// UninstallText renders an uninstall in the form users know from
// `flux uninstall`: a "► step" header per section, "✔ Kind/ns/name
// deleted" per object, failures with their reason, and a last line that
// says whether anything remains.
func UninstallText(w io.Writer, u *result.Uninstall) error {
	var b strings.Builder
	for _, s := range u.Sections {
		fmt.Fprintf(&b, "► %s\n", s.Title)
		for _, c := range s.Changes {
			mark := "✔"
			if c.Action == result.ActionFailed {
				mark = "✗"
			}
			fmt.Fprintf(&b, "%s %s %s\n", mark, c.ID, c.Message)
		}
	}
	for _, e := range u.Errors {
		fmt.Fprintf(&b, "✗ %s\n", e)
	}
	b.WriteString(UninstallVerdict(u) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// UninstallVerdict is the closing line of an uninstall.
func UninstallVerdict(u *result.Uninstall) string {
	switch {
	case u.Failed():
		n := len(u.Errors)
		for _, s := range u.Sections {
			for _, c := range s.Changes {
				if c.Action == result.ActionFailed {
					n++
				}
			}
		}
		return fmt.Sprintf("✗ uninstall incomplete: %d failure(s); what failed is still in the cluster", n)
	case u.DryRun:
		return "✔ uninstall dry-run finished: nothing was changed"
	default:
		return "✔ uninstall finished"
	}
}

// UninstallJSON renders an uninstall as JSON.
func UninstallJSON(w io.Writer, u *result.Uninstall) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(u)
}
