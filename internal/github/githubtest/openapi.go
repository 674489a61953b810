package githubtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// openapiFixture holds the request-body schemas of the operations the fake
// checks, taken from GitHub's published OpenAPI description (see its
// "source" and hack/githubschema).
//
//go:embed testdata/openapi-requests.json
var openapiFixture []byte

// Operation IDs of GitHub's OpenAPI description whose request bodies are
// checked.
const (
	opCreateCheckRun = "checks/create"
	opUpdateCheckRun = "checks/update"
	opCreateStatus   = "repos/create-commit-status"
	opCreateComment  = "issues/create-comment"
	opUpdateComment  = "issues/update-comment"
)

// schema is the part of JSON Schema (OpenAPI 3.0 flavour) that GitHub's
// description uses for these request bodies.
type schema struct {
	Type                 string             `json:"type"`
	Nullable             bool               `json:"nullable"`
	Format               string             `json:"format"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Enum                 []any              `json:"enum"`
	MaxLength            *int               `json:"maxLength"`
	MaxItems             *int               `json:"maxItems"`
	Items                *schema            `json:"items"`
	AnyOf                []*schema          `json:"anyOf"`
}

// requestSchemas parses the fixture; it is embedded, so a failure is a
// broken build of the fake, reported on every checked request.
func requestSchemas() (map[string]*schema, error) {
	var fx struct {
		Operations map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(openapiFixture, &fx); err != nil {
		return nil, fmt.Errorf("githubtest: OpenAPI fixture: %w", err)
	}
	out := map[string]*schema{}
	for id, op := range fx.Operations {
		out[id] = op.Schema
	}
	return out, nil
}

// checkBody validates a request body against operation op's schema and
// answers as GitHub does when it does not: 422 "Invalid request".
func (s *Server) checkBody(op string, body []byte) *httpError {
	if s.schemaErr != nil {
		return fail(500, "%v", s.schemaErr)
	}
	sc := s.schemas[op]
	if sc == nil {
		return fail(500, "githubtest: no schema for %s", op)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fail(400, "Problems parsing JSON")
	}
	if err := sc.validate("", v); err != nil {
		return fail(422, "Invalid request.\n\n%v", err)
	}
	return nil
}

func (sc *schema) validate(at string, v any) error {
	if v == nil {
		if sc.Nullable || sc.Type == "" {
			return nil
		}
		return fmt.Errorf("for '%s', nil is not a %s", field(at), sc.Type)
	}
	if err := sc.validateType(at, v); err != nil {
		return err
	}
	if len(sc.Enum) > 0 && !slices.ContainsFunc(sc.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		return fmt.Errorf("for '%s', %q is not a member of %v", field(at), fmt.Sprint(v), sc.Enum)
	}
	if len(sc.AnyOf) > 0 {
		var errs []string
		for _, alt := range sc.AnyOf {
			err := alt.validate(at, v)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err.Error())
		}
		if errs != nil {
			return fmt.Errorf("for '%s', none of the allowed forms match: %s", field(at), strings.Join(errs, "; "))
		}
	}
	switch x := v.(type) {
	case string:
		if sc.MaxLength != nil && utf8.RuneCountInString(x) > *sc.MaxLength {
			return fmt.Errorf("for '%s', %d characters is more than the maximum of %d", field(at), utf8.RuneCountInString(x), *sc.MaxLength)
		}
		if sc.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				return fmt.Errorf("for '%s', %q is not a date-time", field(at), x)
			}
		}
	case []any:
		if sc.MaxItems != nil && len(x) > *sc.MaxItems {
			return fmt.Errorf("for '%s', %d items is more than the maximum of %d", field(at), len(x), *sc.MaxItems)
		}
		if sc.Items != nil {
			for i, e := range x {
				if err := sc.Items.validate(fmt.Sprintf("%s/%d", at, i), e); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		return sc.validateObject(at, x)
	}
	return nil
}

func (sc *schema) validateType(at string, v any) error {
	ok := true
	switch sc.Type {
	case "object":
		_, ok = v.(map[string]any)
	case "array":
		_, ok = v.([]any)
	case "string":
		_, ok = v.(string)
	case "boolean":
		_, ok = v.(bool)
	case "number":
		_, ok = v.(json.Number)
	case "integer":
		n, isNumber := v.(json.Number)
		_, err := n.Int64()
		ok = isNumber && err == nil
	}
	if !ok {
		return fmt.Errorf("for '%s', %v is not a %s", field(at), v, sc.Type)
	}
	return nil
}

func (sc *schema) validateObject(at string, x map[string]any) error {
	for _, name := range sc.Required {
		if _, ok := x[name]; !ok {
			return fmt.Errorf("%q wasn't supplied", strings.TrimPrefix(at+"/"+name, "/"))
		}
	}
	names := make([]string, 0, len(x))
	for name := range x {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p, known := sc.Properties[name]
		if !known {
			if string(sc.AdditionalProperties) == "false" {
				return fmt.Errorf("for '%s', %q is not a permitted key", field(at), name)
			}
			continue
		}
		if err := p.validate(at+"/"+name, x[name]); err != nil {
			return err
		}
	}
	return nil
}

// field names a place in a body as GitHub's messages do:
// "properties/output/annotations/0".
func field(at string) string {
	if at == "" {
		return "items"
	}
	return "properties" + at
}
