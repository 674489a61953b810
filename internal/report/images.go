package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/slipwayhq/slipway/internal/images"
)

// ImagesText writes an image list per cluster path and unit, then the
// union: one image per line, indented under what deploys it.
func ImagesText(w io.Writer, l *images.List) error {
	var b strings.Builder
	for _, c := range l.Clusters {
		fmt.Fprintf(&b, "► %s (%d image(s))\n", c.Path, len(c.Images))
		for _, u := range c.Units {
			fmt.Fprintf(&b, "  • %s %s", u.Kind, u.Ref())
			if u.Kustomization != "" {
				fmt.Fprintf(&b, " (in Kustomization %s)", u.Kustomization)
			}
			b.WriteString("\n")
			if u.Error != "" {
				fmt.Fprintf(&b, "    ✗ not built, images unknown: %s\n", oneLine(u.Error))
			}
			for _, img := range u.Images {
				fmt.Fprintf(&b, "    %s\n", img)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ImagesJSON writes the image list as indented JSON; its "images" field
// is the union, for a GitHub Actions matrix.
func ImagesJSON(w io.Writer, l *images.List) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(l)
}
