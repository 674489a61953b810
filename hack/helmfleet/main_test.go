package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/yaml"
)

func generateForTest(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "fleet")
	args = append([]string{"-out", out, "-repo-url", "http://127.0.0.1:9"}, args...)
	if err := run(args, io.Discard, io.Discard); err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out
}

// Every release renders with Helm's own engine from its chart and its
// baseline values, and the HelmRelease carries exactly those values.
func TestReleasesRender(t *testing.T) {
	out := generateForTest(t, "-charts", "3", "-releases", "7")
	f, err := os.Open(filepath.Join(out, "baseline", "releases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 5 {
			t.Fatalf("releases.tsv line %q: want 5 fields", sc.Text())
		}
		name, ns, chartName, version, valuesFile := fields[0], fields[1], fields[2], fields[3], fields[4]
		n++

		values := readYAML(t, filepath.Join(out, valuesFile))
		hr := readYAML(t, filepath.Join(out, clusterPath, "releases", name+".yaml"))
		spec := hr["spec"].(map[string]any)
		if !reflect.DeepEqual(spec["values"], values) {
			t.Errorf("%s: spec.values %v differ from %s %v", name, spec["values"], valuesFile, values)
		}
		cs := spec["chart"].(map[string]any)["spec"].(map[string]any)
		if cs["chart"] != chartName || cs["version"] != version {
			t.Errorf("%s: chart %v %v, releases.tsv says %s %s", name, cs["chart"], cs["version"], chartName, version)
		}
		if hr["metadata"].(map[string]any)["namespace"] != ns {
			t.Errorf("%s: namespace %v, releases.tsv says %s", name, hr["metadata"].(map[string]any)["namespace"], ns)
		}

		c, err := loader.Load(filepath.Join(out, "charts", chartName))
		if err != nil {
			t.Fatalf("%s: loading %s: %v", name, chartName, err)
		}
		if c.Metadata.Version != version {
			t.Errorf("%s: chart version %s, want %s", chartName, c.Metadata.Version, version)
		}
		vals, err := chartutil.ToRenderValues(c, values,
			common.ReleaseOptions{Name: name, Namespace: ns, IsInstall: true}, common.DefaultCapabilities)
		if err != nil {
			t.Fatalf("%s: values: %v", name, err)
		}
		files, err := engine.Render(c, vals)
		if err != nil {
			t.Fatalf("%s: rendering %s: %v", name, chartName, err)
		}
		kinds := map[string]int{}
		for file, text := range files {
			if !strings.HasSuffix(file, ".yaml") {
				continue
			}
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(text), &obj); err != nil {
				t.Fatalf("%s: %s does not decode: %v\n%s", name, file, err, text)
			}
			if obj != nil {
				kinds[obj["kind"].(string)]++
			}
		}
		autoscaling := values["autoscaling"].(map[string]any)["enabled"].(bool)
		want := map[string]int{"Deployment": 1, "Service": 1, "ConfigMap": 1, "ServiceAccount": 1}
		if autoscaling {
			want["HorizontalPodAutoscaler"] = 1
		}
		if !reflect.DeepEqual(kinds, want) {
			t.Errorf("%s: rendered kinds %v, want %v", name, kinds, want)
		}
		if cm := files[chartName+"/templates/configmap.yaml"]; !strings.Contains(cm, `RELEASE_NAME: "`+name+`"`) {
			t.Errorf("%s: ConfigMap does not carry the release name:\n%s", name, cm)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Errorf("releases.tsv lists %d releases, want 7", n)
	}
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// The same flags give byte-identical output.
func TestDeterministic(t *testing.T) {
	a, b := generateForTest(t), generateForTest(t)
	err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || string(x) != string(y) {
			t.Errorf("%s differs between two runs", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-repo-url", "http://x"},
		{"-out", dir, "-repo-url", "oci://x"},
		{"-out", dir, "-repo-url", "http://x", "-charts", "0"},
		{"-out", dir, "-repo-url", "http://x", "-releases", "100000"},
		{"-serve", filepath.Join(dir, "missing")},
	} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %v: want an error", args)
		}
	}
}
