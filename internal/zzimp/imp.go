package zzimp

import (
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/go-github/v84/github"
	_ "github.com/sethvargo/go-githubactions"
	_ "helm.sh/helm/v4/pkg/action"
	_ "helm.sh/helm/v4/pkg/chart/v2/loader"
	_ "helm.sh/helm/v4/pkg/chart/loader"
	_ "helm.sh/helm/v4/pkg/repo/v1"
	_ "helm.sh/helm/v4/pkg/registry"
	_ "helm.sh/helm/v4/pkg/getter"
	_ "helm.sh/helm/v4/pkg/storage/driver"
	_ "helm.sh/helm/v4/pkg/postrenderer"
	_ "helm.sh/helm/v4/pkg/chart/v2/util"
	_ "golang.org/x/crypto/nacl/box"
)
