// Command githubschema extracts the request-body schemas of the GitHub REST
// operations slipway calls from GitHub's published OpenAPI description,
// into the small fixture the fake GitHub (internal/github/githubtest)
// validates requests against.
//
// The description is in the npm package @octokit/openapi (GitHub's
// github/rest-api-description with Octokit's extensions). To regenerate:
//
//	hack/githubschema/update.sh
//
// or by hand:
//
//	(cd /tmp && npm pack @octokit/openapi && tar xzf octokit-openapi-*.tgz)
//	go run ./hack/githubschema -spec /tmp/package/generated/api.github.com.deref.json \
//	    -version "$(jq -r .version /tmp/package/package.json)" \
//	    -out internal/github/githubtest/testdata/openapi-requests.json
//
// The dereferenced description is used so the fixture needs no $ref
// resolution; descriptions and examples are dropped to keep it small.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// operations are the operation IDs whose request bodies the fake checks.
var operations = []string{
	"checks/create",
	"checks/update",
	"repos/create-commit-status",
	"issues/create-comment",
	"issues/update-comment",
	"repos/create-deployment",
	"repos/create-deployment-status",
	"issues/create",
	"issues/update",
}

// Fixture is the file written.
type Fixture struct {
	Source     string               `json:"source"`
	Operations map[string]Operation `json:"operations"`
}

// Operation is one REST operation's request body schema.
type Operation struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Schema json.RawMessage `json:"schema"`
}

func main() {
	spec := flag.String("spec", "", "GitHub's dereferenced OpenAPI description (api.github.com.deref.json)")
	version := flag.String("version", "", "the @octokit/openapi version the description came from")
	out := flag.String("out", "internal/github/githubtest/testdata/openapi-requests.json", "fixture to write")
	flag.Parse()
	if err := run(*spec, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "githubschema:", err)
		os.Exit(1)
	}
}

func run(spec, version, out string) error {
	if spec == "" {
		return fmt.Errorf("-spec is required")
	}
	data, err := os.ReadFile(spec)
	if err != nil {
		return err
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", spec, err)
	}
	fx := Fixture{
		Source:     fmt.Sprintf("@octokit/openapi %s, generated/api.github.com.deref.json; regenerate with hack/githubschema", version),
		Operations: map[string]Operation{},
	}
	for path, item := range doc.Paths {
		for method, raw := range item {
			var op struct {
				OperationID string `json:"operationId"`
				RequestBody struct {
					Content map[string]struct {
						Schema any `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			}
			if json.Unmarshal(raw, &op) != nil || !slices.Contains(operations, op.OperationID) {
				continue
			}
			schema, err := json.Marshal(strip(op.RequestBody.Content["application/json"].Schema))
			if err != nil {
				return err
			}
			fx.Operations[op.OperationID] = Operation{Method: strings.ToUpper(method), Path: path, Schema: schema}
		}
	}
	for _, id := range operations {
		if _, ok := fx.Operations[id]; !ok {
			return fmt.Errorf("operation %s not in %s", id, spec)
		}
	}
	b, err := json.MarshalIndent(fx, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

// strip drops what documents a schema but does not constrain it.
func strip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			switch k {
			case "description", "examples", "example", "title":
				// "title" is also a property name: only drop it where
				// it is a keyword (a string).
				if _, isString := val.(string); isString || k != "title" {
					continue
				}
			}
			if k == "properties" {
				props := map[string]any{}
				for name, p := range val.(map[string]any) {
					props[name] = strip(p)
				}
				out[k] = props
				continue
			}
			out[k] = strip(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = strip(e)
		}
		return out
	}
	return v
}
