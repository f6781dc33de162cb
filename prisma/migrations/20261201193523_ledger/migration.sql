-- CreateEnum
CREATE TYPE "LedgerStatus" AS ENUM ('ACTIVE', 'DISABLED');

-- CreateEnum
CREATE TYPE "TransferStatus" AS ENUM ('PENDING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "LedgerCurrency" (
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "exponent" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "custom" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LedgerCurrency_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "LedgerAccount" (
    "id" TEXT NOT NULL,
    "merchantId" TEXT,
    "system" TEXT,
    "owner" TEXT NOT NULL,
    "email" TEXT,
    "status" "LedgerStatus" NOT NULL DEFAULT 'ACTIVE',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LedgerAccount_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LedgerBalance" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "merchantId" TEXT,
    "currency" TEXT NOT NULL,
    "amount" BIGINT NOT NULL DEFAULT 0,
    "overdraftLimit" BIGINT DEFAULT 0,
    "status" "LedgerStatus" NOT NULL DEFAULT 'ACTIVE',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LedgerBalance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LedgerEntry" (
    "id" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "transferId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LedgerEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LedgerPosting" (
    "id" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "balanceId" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LedgerPosting_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Transfer" (
    "id" TEXT NOT NULL,
    "merchantId" TEXT NOT NULL,
    "fromBalanceId" TEXT NOT NULL,
    "toBalanceId" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "status" "TransferStatus" NOT NULL DEFAULT 'PENDING',
    "failureCode" TEXT,
    "failureReason" TEXT,
    "reversed" BOOLEAN NOT NULL DEFAULT false,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "idempotencyKey" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Transfer_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "LedgerAccount_system_key" ON "LedgerAccount"("system");

-- CreateIndex
CREATE INDEX "LedgerAccount_merchantId_createdAt_id_idx" ON "LedgerAccount"("merchantId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "LedgerBalance_merchantId_createdAt_id_idx" ON "LedgerBalance"("merchantId", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerBalance_accountId_currency_key" ON "LedgerBalance"("accountId", "currency");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerEntry_idempotencyKey_key" ON "LedgerEntry"("idempotencyKey");

-- CreateIndex
CREATE INDEX "LedgerEntry_transferId_idx" ON "LedgerEntry"("transferId");

-- CreateIndex
CREATE INDEX "LedgerPosting_balanceId_createdAt_id_idx" ON "LedgerPosting"("balanceId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "LedgerPosting_entryId_idx" ON "LedgerPosting"("entryId");

-- CreateIndex
CREATE INDEX "Transfer_merchantId_createdAt_id_idx" ON "Transfer"("merchantId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Transfer_merchantId_status_createdAt_id_idx" ON "Transfer"("merchantId", "status", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Transfer_merchantId_idempotencyKey_key" ON "Transfer"("merchantId", "idempotencyKey");

-- AddForeignKey
ALTER TABLE "LedgerBalance" ADD CONSTRAINT "LedgerBalance_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "LedgerAccount"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LedgerPosting" ADD CONSTRAINT "LedgerPosting_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "LedgerEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LedgerPosting" ADD CONSTRAINT "LedgerPosting_balanceId_fkey" FOREIGN KEY ("balanceId") REFERENCES "LedgerBalance"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Seed: every active ISO 4217 currency of money/iso4217.ts, named as Intl.DisplayNames("en") names it.
INSERT INTO "LedgerCurrency" ("code", "name", "exponent") VALUES
('AED', 'United Arab Emirates Dirham', 2),
('AFN', 'Afghan Afghani', 2),
('ALL', 'Albanian Lek', 2),
('AMD', 'Armenian Dram', 2),
('AOA', 'Angolan Kwanza', 2),
('ARS', 'Argentine Peso', 2),
('AUD', 'Australian Dollar', 2),
('AWG', 'Aruban Florin', 2),
('AZN', 'Azerbaijani Manat', 2),
('BAM', 'Bosnia-Herzegovina Convertible Mark', 2),
('BBD', 'Barbadian Dollar', 2),
('BDT', 'Bangladeshi Taka', 2),
('BHD', 'Bahraini Dinar', 3),
('BIF', 'Burundian Franc', 0),
('BMD', 'Bermudan Dollar', 2),
('BND', 'Brunei Dollar', 2),
('BOB', 'Bolivian Boliviano', 2),
('BRL', 'Brazilian Real', 2),
('BSD', 'Bahamian Dollar', 2),
('BTN', 'Bhutanese Ngultrum', 2),
('BWP', 'Botswanan Pula', 2),
('BYN', 'Belarusian Ruble', 2),
('BZD', 'Belize Dollar', 2),
('CAD', 'Canadian Dollar', 2),
('CDF', 'Congolese Franc', 2),
('CHF', 'Swiss Franc', 2),
('CLP', 'Chilean Peso', 0),
('CNY', 'Chinese Yuan', 2),
('COP', 'Colombian Peso', 2),
('CRC', 'Costa Rican Colón', 2),
('CUP', 'Cuban Peso', 2),
('CVE', 'Cape Verdean Escudo', 2),
('CZK', 'Czech Koruna', 2),
('DJF', 'Djiboutian Franc', 0),
('DKK', 'Danish Krone', 2),
('DOP', 'Dominican Peso', 2),
('DZD', 'Algerian Dinar', 2),
('EGP', 'Egyptian Pound', 2),
('ERN', 'Eritrean Nakfa', 2),
('ETB', 'Ethiopian Birr', 2),
('EUR', 'Euro', 2),
('FJD', 'Fijian Dollar', 2),
('FKP', 'Falkland Islands Pound', 2),
('GBP', 'British Pound', 2),
('GEL', 'Georgian Lari', 2),
('GHS', 'Ghanaian Cedi', 2),
('GIP', 'Gibraltar Pound', 2),
('GMD', 'Gambian Dalasi', 2),
('GNF', 'Guinean Franc', 0),
('GTQ', 'Guatemalan Quetzal', 2),
('GYD', 'Guyanaese Dollar', 2),
('HKD', 'Hong Kong Dollar', 2),
('HNL', 'Honduran Lempira', 2),
('HTG', 'Haitian Gourde', 2),
('HUF', 'Hungarian Forint', 2),
('IDR', 'Indonesian Rupiah', 2),
('ILS', 'Israeli New Shekel', 2),
('INR', 'Indian Rupee', 2),
('IQD', 'Iraqi Dinar', 3),
('IRR', 'Iranian Rial', 2),
('ISK', 'Icelandic Króna', 0),
('JMD', 'Jamaican Dollar', 2),
('JOD', 'Jordanian Dinar', 3),
('JPY', 'Japanese Yen', 0),
('KES', 'Kenyan Shilling', 2),
('KGS', 'Kyrgyz Som', 2),
('KHR', 'Cambodian Riel', 2),
('KMF', 'Comorian Franc', 0),
('KPW', 'North Korean Won', 2),
('KRW', 'South Korean Won', 0),
('KWD', 'Kuwaiti Dinar', 3),
('KYD', 'Cayman Islands Dollar', 2),
('KZT', 'Kazakhstani Tenge', 2),
('LAK', 'Laotian Kip', 2),
('LBP', 'Lebanese Pound', 2),
('LKR', 'Sri Lankan Rupee', 2),
('LRD', 'Liberian Dollar', 2),
('LSL', 'Lesotho Loti', 2),
('LYD', 'Libyan Dinar', 3),
('MAD', 'Moroccan Dirham', 2),
('MDL', 'Moldovan Leu', 2),
('MGA', 'Malagasy Ariary', 2),
('MKD', 'Macedonian Denar', 2),
('MMK', 'Myanmar Kyat', 2),
('MNT', 'Mongolian Tugrik', 2),
('MOP', 'Macanese Pataca', 2),
('MRU', 'Mauritanian Ouguiya', 2),
('MUR', 'Mauritian Rupee', 2),
('MVR', 'Maldivian Rufiyaa', 2),
('MWK', 'Malawian Kwacha', 2),
('MXN', 'Mexican Peso', 2),
('MYR', 'Malaysian Ringgit', 2),
('MZN', 'Mozambican Metical', 2),
('NAD', 'Namibian Dollar', 2),
('NGN', 'Nigerian Naira', 2),
('NIO', 'Nicaraguan Córdoba', 2),
('NOK', 'Norwegian Krone', 2),
('NPR', 'Nepalese Rupee', 2),
('NZD', 'New Zealand Dollar', 2),
('OMR', 'Omani Rial', 3),
('PAB', 'Panamanian Balboa', 2),
('PEN', 'Peruvian Sol', 2),
('PGK', 'Papua New Guinean Kina', 2),
('PHP', 'Philippine Peso', 2),
('PKR', 'Pakistani Rupee', 2),
('PLN', 'Polish Zloty', 2),
('PYG', 'Paraguayan Guarani', 0),
('QAR', 'Qatari Riyal', 2),
('RON', 'Romanian Leu', 2),
('RSD', 'Serbian Dinar', 2),
('RUB', 'Russian Ruble', 2),
('RWF', 'Rwandan Franc', 0),
('SAR', 'Saudi Riyal', 2),
('SBD', 'Solomon Islands Dollar', 2),
('SCR', 'Seychellois Rupee', 2),
('SDG', 'Sudanese Pound', 2),
('SEK', 'Swedish Krona', 2),
('SGD', 'Singapore Dollar', 2),
('SHP', 'St. Helena Pound', 2),
('SLE', 'Sierra Leonean Leone', 2),
('SOS', 'Somali Shilling', 2),
('SRD', 'Surinamese Dollar', 2),
('SSP', 'South Sudanese Pound', 2),
('STN', 'São Tomé & Príncipe Dobra', 2),
('SVC', 'Salvadoran Colón', 2),
('SYP', 'Syrian Pound', 2),
('SZL', 'Swazi Lilangeni', 2),
('THB', 'Thai Baht', 2),
('TJS', 'Tajikistani Somoni', 2),
('TMT', 'Turkmenistani Manat', 2),
('TND', 'Tunisian Dinar', 3),
('TOP', 'Tongan Paʻanga', 2),
('TRY', 'Turkish Lira', 2),
('TTD', 'Trinidad & Tobago Dollar', 2),
('TWD', 'New Taiwan Dollar', 2),
('TZS', 'Tanzanian Shilling', 2),
('UAH', 'Ukrainian Hryvnia', 2),
('UGX', 'Ugandan Shilling', 0),
('USD', 'US Dollar', 2),
('UYU', 'Uruguayan Peso', 2),
('UZS', 'Uzbekistani Som', 2),
('VED', 'Bolívar Soberano', 2),
('VES', 'Venezuelan Bolívar', 2),
('VND', 'Vietnamese Dong', 0),
('VUV', 'Vanuatu Vatu', 0),
('WST', 'Samoan Tala', 2),
('XAF', 'Central African CFA Franc', 0),
('XCD', 'East Caribbean Dollar', 2),
('XCG', 'Caribbean guilder', 2),
('XOF', 'West African CFA Franc', 0),
('XPF', 'CFP Franc', 0),
('YER', 'Yemeni Rial', 2),
('ZAR', 'South African Rand', 2),
('ZMW', 'Zambian Kwacha', 2),
('ZWG', 'Zimbabwean Gold', 2);
