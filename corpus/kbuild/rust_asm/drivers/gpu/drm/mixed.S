/* mixed: synthetic assembly */
	.text
