/** Standard Base64 with its padding, in whole quanta: how every blob, key and token this service issues is written. */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 characters with at most two `=` at the end, the quanta not checked: for what is decoded and checked next anyway. */
export const BASE64_TEXT = /^[A-Za-z0-9+/]+={0,2}$/;
