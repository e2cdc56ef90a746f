package console

//go:generate sh fetch-assets.sh
