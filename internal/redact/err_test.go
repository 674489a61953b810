package redact_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/slipwayhq/slipway/internal/redact"
)

// A masked error prints without the secret and still unwraps to its
// cause, so it is classified by type after masking.
func TestMaskedErr(t *testing.T) {
	m := redact.NewMasker([]string{"hunter2-secret"})
	cause := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	err := m.Err(fmt.Errorf("value hunter2-secret: %w", cause))
	var pe *fs.PathError
	if strings.Contains(err.Error(), "hunter2-secret") || !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("masked error %q: As %v", err, errors.As(err, &pe))
	}
	if m.Err(nil) != nil {
		t.Error("nil is not an error")
	}
}
