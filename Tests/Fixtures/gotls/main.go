// A Go HTTPS server and client for the agent's crypto/tls tests, built by the tests with
// Debian's Go toolchain (standard library only):
//
//	gotls serve ADDR CERT KEY   serves /hello (GET, 14 bytes) and /upload (POST, 201, 7 bytes)
//	gotls call BASE             GET BASE/hello, then POST 5000 bytes to BASE/upload, on one connection
//	gotls get URL...            GET each URL, on one connection
//
// GOTLS_START_DELAY_MS makes a client wait before its first request, as a service that
// starts and later calls another would.
//
// The client speaks HTTP/1.1; the server also speaks HTTP/2 to clients that offer it.
package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gotls serve ADDR CERT KEY | call BASE | get URL")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello from go\n")
		})
		http.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "stored\n")
		})
		fmt.Fprintln(os.Stderr, http.ListenAndServeTLS(os.Args[2], os.Args[3], os.Args[4], nil))
		os.Exit(1)
	case "call":
		startDelay()
		client := newClient()
		fetch(client, "GET", os.Args[2]+"/hello", nil)
		fetch(client, "POST", os.Args[2]+"/upload", bytes.Repeat([]byte("g"), 5000))
	case "get":
		startDelay()
		client := newClient()
		for _, url := range os.Args[2:] {
			fetch(client, "GET", url, nil)
		}
	}
}

func startDelay() {
	if milliseconds, err := strconv.Atoi(os.Getenv("GOTLS_START_DELAY_MS")); err == nil {
		time.Sleep(time.Duration(milliseconds) * time.Millisecond)
	}
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

func fetch(client *http.Client, method, url string, body []byte) {
	request, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	if body == nil {
		request.Body = nil
	}
	response, err := client.Do(request)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	received, _ := io.ReadAll(response.Body)
	response.Body.Close()
	fmt.Printf("%s %s %d %d\n", method, url, response.StatusCode, len(received))
}
