package helm

import (
	"fmt"
	"strings"
)

// ChartNotFoundError says a chart, or a version of it matching the
// constraint, is not in the source. Available lists the versions nearest to
// the constraint, newest first.
type ChartNotFoundError struct {
	Chart      string
	Constraint string
	Source     string
	Available  []string
	// Reason is set when the cause is not "no such version" (bad constraint).
	Reason string
}

func (e *ChartNotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chart %q", e.Chart)
	if e.Constraint != "" {
		fmt.Fprintf(&b, " version %q", e.Constraint)
	}
	fmt.Fprintf(&b, " not found in %s", e.Source)
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if len(e.Available) > 0 {
		b.WriteString(" (nearest available versions: " + strings.Join(e.Available, ", ") + ")")
	} else if e.Reason == "" && e.Constraint != "" {
		b.WriteString(" (no versions of it are published)")
	}
	return b.String()
}

// SourceError is a chart source that cannot be used: missing, unsupported,
// or unreachable. URL and StatusCode are set for HTTP failures.
type SourceError struct {
	Kind, Namespace, Name string
	URL                   string
	StatusCode            int
	Reason                string
	Err                   error
}

func (e *SourceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s/%s", e.Kind, e.Namespace, e.Name)
	if e.URL != "" {
		fmt.Fprintf(&b, " (%s)", e.URL)
	}
	b.WriteString(": ")
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "%s: HTTP %d", e.Reason, e.StatusCode)
	case e.Err != nil && e.Reason != "":
		fmt.Fprintf(&b, "%s: %v", e.Reason, e.Err)
	case e.Err != nil:
		fmt.Fprintf(&b, "%v", e.Err)
	default:
		b.WriteString(e.Reason)
	}
	return b.String()
}

func (e *SourceError) Unwrap() error { return e.Err }

// StatusError is a registry's error answer, kept to its status: the body
// is never quoted, since a server on the runner's network may answer with
// secrets.
type StatusError struct {
	Method, URL string
	StatusCode  int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.StatusCode)
}

// ValuesError is a values document that does not parse or cannot be
// merged. Where names the document ("chart podinfo file values-prod.yaml",
// "ConfigMap apps/values key values.yaml"); Line is 1-based, 0 if unknown.
// Errors about values that came from Secrets never quote the content.
type ValuesError struct {
	Where string
	Line  int
	Err   error
}

func (e *ValuesError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("values %s:%d: %v", e.Where, e.Line, e.Err)
	}
	return fmt.Sprintf("values %s: %v", e.Where, e.Err)
}

func (e *ValuesError) Unwrap() error { return e.Err }

// TemplateError is a chart template that failed to render. File is the
// template path inside the chart (chart/templates/x.yaml), Line 1-based.
type TemplateError struct {
	Chart string
	File  string
	Line  int
	Err   error
}

func (e *TemplateError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("rendering chart %s: %s:%d: %v", e.Chart, e.File, e.Line, e.Err)
	case e.File != "":
		return fmt.Sprintf("rendering chart %s: %s: %v", e.Chart, e.File, e.Err)
	default:
		return fmt.Sprintf("rendering chart %s: %v", e.Chart, e.Err)
	}
}

func (e *TemplateError) Unwrap() error { return e.Err }

// KubeVersionError is a chart whose kubeVersion constraint excludes the
// target Kubernetes version.
type KubeVersionError struct {
	Chart       string
	Constraint  string
	KubeVersion string
}

func (e *KubeVersionError) Error() string {
	return fmt.Sprintf("chart %s requires kubeVersion %q, which excludes the target Kubernetes version %s",
		e.Chart, e.Constraint, e.KubeVersion)
}

// SpecError is a HelmRelease that does not decode or is missing what
// helm-controller needs (a chart template or a chartRef).
type SpecError struct {
	Reason string
	Err    error
}

func (e *SpecError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("invalid HelmRelease: %s: %v", e.Reason, e.Err)
	}
	return "invalid HelmRelease: " + e.Reason
}

func (e *SpecError) Unwrap() error { return e.Err }
