package source

import "fmt"

// FileError is a problem with one repository file, with the line when known.
type FileError struct {
	// File is relative to the repository root (or as given, for files
	// outside it such as --external-objects).
	File string
	Line int
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// PathError is a cluster path or spec.path that cannot be used.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string { return fmt.Sprintf("path %q: %s", e.Path, e.Reason) }
