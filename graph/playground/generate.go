package playground

//go:generate sh fetch-assets.sh
