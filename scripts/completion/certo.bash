# bash completion for certo; generated from the option table in client/cli.h
# by certo-mkman --completion; do not edit.
_certo()
{
	local cur prev verb i opts
	cur="${COMP_WORDS[COMP_CWORD]}"
	prev="${COMP_WORDS[COMP_CWORD-1]}"
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		issue|renew|authorize|revoke|account|list|delete|deactivate-authz|ratelimit|import|orders) verb=${COMP_WORDS[i]}; break ;;
		esac
	done
	case "$prev" in
	--state-dir|--store-key|--ca-bundle|--responder|--dns-hook|--http-hook|--webroot|--key|--csr|--deploy-hook|--cert|--cert-key|--manuale-account)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--key-type|-k)
		COMPREPLY=($(compgen -W "ec-256 ec-384 rsa-2048 rsa-3072 rsa-4096" -- "$cur")); return ;;
	--account-key-type)
		COMPREPLY=($(compgen -W "ec-256 ec-384 rsa-2048 rsa-3072 rsa-4096 ed25519" -- "$cur")); return ;;
	--challenge|-c)
		COMPREPLY=($(compgen -W "http-01 tls-alpn-01 dns-01 http-01,tls-alpn-01" -- "$cur")); return ;;
	--reason)
		COMPREPLY=($(compgen -W "unspecified keyCompromise affiliationChanged superseded cessationOfOperation" -- "$cur")); return ;;
	--server)
		COMPREPLY=($(compgen -W "letsencrypt letsencrypt-staging zerossl buypass buypass-staging google google-staging sectigo" -- "$cur")); return ;;
	esac
	case "$verb" in
	issue) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --domain --standalone --responder --challenge --manual --dns-hook --http-hook --webroot --dns-timeout --dns-interval --dns-resolver --dns-wait-extra --http-timeout --hook-timeout --ca-timeout --http-port --http-addr --tls-port --tls-addr --email --agree-tos --account-key-type --eab-kid --eab-hmac-key --key-type --key --csr --must-staple --not-before --not-after --profile --preferred-chain --deploy-hook --pem-bundle --force" ;;
	renew) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --hook-timeout --ca-timeout --email --agree-tos --deploy-hook --force --dry-run --dry-run-server --name --jobs --loop" ;;
	authorize) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --domain --standalone --responder --challenge --manual --dns-hook --http-hook --webroot --dns-timeout --dns-interval --dns-resolver --dns-wait-extra --http-timeout --hook-timeout --ca-timeout --http-port --http-addr --tls-port --tls-addr --email --agree-tos --account-key-type --eab-kid --eab-hmac-key" ;;
	revoke) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --cert --cert-key --reason" ;;
	account) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --email --agree-tos --account-key-type --eab-kid --eab-hmac-key --manuale-account register info update deactivate rollover import" ;;
	list) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --prometheus" ;;
	delete) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http" ;;
	deactivate-authz) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http" ;;
	ratelimit) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --clear" ;;
	import) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --standalone --responder --challenge --manual --dns-hook --http-hook --webroot --dns-timeout --dns-interval --dns-resolver --dns-wait-extra --http-timeout --hook-timeout --ca-timeout --http-port --http-addr --tls-port --tls-addr --certbot --lego" ;;
	orders) opts="--help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http --refresh --prune" ;;
	*) opts="issue renew authorize revoke account list delete deactivate-authz ratelimit import orders --help --version --verbose --quiet --json --state-dir --store --store-key --user --server --ca-bundle --allow-insecure-http" ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _certo certo
